import type { CashierStrings } from './strings';

/** Brazilian Portuguese, for Boleto (and other BRL) shoppers. */
export const ptBR: CashierStrings = {
  title: 'Pagar: {subject}',
  status: {
    UNPAID: 'Escolha como pagar.',
    PAYING: 'Aguardando o seu pagamento…',
    PAID: 'Pago. Obrigado.',
    CLOSED: 'Este pedido foi encerrado ou expirou. Nada pode ser pago.',
  },
  applying: 'Contatando o provedor de pagamento…',
  paidWarning: 'Este pedido já está pago, por favor não pague novamente.',
  payWith: 'Pagar com',
  qrAlt: 'QR code: escaneie com o aplicativo para pagar',
  qrCaption: 'Escaneie com o celular para pagar. Mantenha esta página aberta.',
  backToShop: 'Voltar para a loja',
  startFailed: 'Não foi possível iniciar o pagamento. Tente novamente.',
  timeLeft: 'Tempo restante para pagar: {time}',
  payBy: 'Pague até {when}',
  returnTitle: 'Seu pagamento',
  gone404: 'Esta página de pagamento não existe.',
  gone410: 'Esta página de pagamento expirou.',
};
