# One image for every part; docker-compose.yml picks the command. Each part runs as one bundled
# JavaScript file (scripts/build.mjs), as its npm start script does; scripts still run through tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/platform/package.json packages/platform/
COPY packages/core/package.json packages/core/
COPY packages/providers/package.json packages/providers/
COPY packages/testkit/package.json packages/testkit/
COPY services/payment-gateway/package.json services/payment-gateway/
COPY services/poller/package.json services/poller/
COPY services/notifier/package.json services/notifier/
COPY services/refunder/package.json services/refunder/
COPY sandbox/kit/package.json sandbox/kit/
COPY sandbox/psp/package.json sandbox/psp/
COPY sandbox/alipay/package.json sandbox/alipay/
COPY sandbox/wechatpay/package.json sandbox/wechatpay/
COPY sandbox/stripe/package.json sandbox/stripe/
COPY sandbox/order-service/package.json sandbox/order-service/
COPY tools/payctl/package.json tools/payctl/
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs sandbox/psp sandbox/alipay sandbox/wechatpay sandbox/stripe sandbox/order-service services/payment-gateway services/poller services/notifier services/refunder
ENV NODE_ENV=production
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "services/payment-gateway/dist/main.js"]
