import { runService } from '@payments/platform';
import { createLogger, loadConfigOrExit } from '@payments/providers';
import { createPoller } from './app';

runService({ name: 'poller', config: loadConfigOrExit, createLogger, build: createPoller });
