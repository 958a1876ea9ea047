import { runService } from '@payments/platform';
import { createLogger } from '@payments/providers';
import { createGateway } from './app';
import { gatewayConfig } from './config';

runService({ name: 'payment-gateway', config: () => gatewayConfig(), createLogger, build: createGateway });
