export { buildOrderService } from './server';
