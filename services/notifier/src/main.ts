import { runService } from '@payments/common';
import { createNotifier } from './app';

runService({ name: 'notifier', build: createNotifier });
