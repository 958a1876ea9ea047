import { runService } from '@payments/common';
import { createLogger } from '@payments/providers';
import { createGateway } from './app';
import { gatewayConfig } from './config';

runService({ name: 'payment-gateway', config: () => gatewayConfig(), createLogger, build: createGateway });
