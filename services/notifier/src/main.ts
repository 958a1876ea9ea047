import { runService } from '@payments/platform';
import { createNotifier } from './app';

runService({ name: 'notifier', build: createNotifier });
