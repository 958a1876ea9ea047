import { runService } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { createRefunder } from './app';

runService({ name: 'refunder', config: loadConfigOrExit, createLogger, build: createRefunder });
