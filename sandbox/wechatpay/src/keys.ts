/**
 * TEST ONLY. These RSA key pairs and the APIv3 key are published with the source: only our local
 * WeChat Pay sandbox accepts them. The configuration has no defaults: `npm run up`, the demo,
 * docker-compose and the tests give them (`sandboxWechatpayEnv`), and the gateway refuses them for
 * a WECHATPAY_BASE_URL that is not a local sandbox. Never use them against WeChat Pay (README,
 * "Taking real money").
 */

/** The sandbox's merchant id (real ones are 10 digits), app id and merchant certificate serial. */
export const SANDBOX_WECHATPAY_MCHID = '1900000109';
export const SANDBOX_WECHATPAY_APPID = 'wx8888888888888888';
export const SANDBOX_WECHATPAY_SERIAL = '2D9B39A87B9581DE0CC2737A5E96B96FD0CA3080';

/** TEST ONLY: the merchant's API private key (ours: signs requests). PKCS#8. */
export const SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC7z+CU3QwRLASh
BKbzeLn/Ak+Fh01kQI7uodr1BjtCb6BDY8+vyLbwVuJr2DlWEv6qGHAJUx+QltFQ
tQLRsWnpMAl7Rd2c+tQXnG5YKY6AQsWn7VwhY6jbronCXSj373KqTMmOAqWdELou
4SjGY4158nXFqRrHBZd7/WiRsPipbulztIYz2BjTxtiHAkCcSteHTXO9TzzioKld
GXhdgFVMnkvOexEnjL/hxbXMcsd5ip7yxekNRhFxJSnLNoIDsy5OtNDWw9mAM9cF
9qxGtkmSYyzoMw1+H28wa/IFIIvAZnIZmFX7fH0Jc++jrMyH5Fi4Isem4OpBkZjN
TgrrS6LNAgMBAAECggEAJL0hXX1wItvNfAIA9pejKrM1AxXYmcfXLe8TeeLiLLjR
TN11fxlwT8tvN1FwxdmpX3SwVeKgxhP6liMSjhp6cVcoQ6kDFPYsDwJWw4A9k/F7
4MGZyB5Kpc6avB6lKPr6Hz4uH019QCBJi2oYI9bNkhFP4H6X8l6xp1uG3RkVS29E
4D/1A0wrwjA/93nGGz4RcPzyOH5jZpLN0PXz1hsqwfpHgAseNyxY6G5xmBFxdC4E
pgiXT2mtj2Cr6yLXDqgTWvqkoDjOhBO1u88Y1WBfe7PnGkXW0ZdKtNZrJKZDI+o5
+0V7szSlJKldkSvZQt0GZC3p9XLhMfsY5fTu0U+SsQKBgQDpPx2/3ARLKkIbkXAM
P5Jc2ayglouNwWXrQHA5f7zzCbrBwjVQq2f3JfTQuxNSQ3agszB8LiFviGobGZsb
E3mlggHQXb9Bq9CHh2avOYXwZ5yZL5yR01fnJ1WHPJk6vQknZeJ7M3+GZ1gZ8sbq
8klxHYmlLX52ofICVJUh9Ur0qwKBgQDOIh8EQuBc1M+Jw8Yr9HrhvG/0/WB7MRSi
ZmP6VQlqyPqDiBtLBcwe+7qmJ+q61Hss5Pr/6/u3iMGKlYQI5Tgi5dHr4zktGUaZ
Y3fadMNNLy5b2EeLafVfsikwLGykcHJXSthNJhMAgvy4AbQSA7UUJnQcGMx5HiPN
uWJ4NlWWZwKBgHIJo9fsEEVXsd6cqvWyFzNCUb5qHG0AQ35TkQrrw0voU+DrvPll
9HzHl/x9mqK7zUIgmfH88+f+ADKjwEvqp60d9RkU3K+U+21n6/J741p4rf3PY3OA
qxefCZgHLrujNNiIXcTylsT1vgNhyZORRgsB8AxMQ+pon1Q4Wnmx3iXlAoGAalBs
4NzBLP/RfoNLjVYNnql6sMeR4FfDBbN7cxwyvDGmCvrC4OG/kmdQr+u8g9mdId2D
m0UR0WomMBzHOXNHjbAsodXSonD72ZbUtQYtyHxCE7qrw7rFhDK2TZNMAU/BmUYP
41J00Hm+cATo47Wnyhm/HtKnevxRiQRJRij34ZcCgYAEVKJmVE+9Ot3Y+i3CICz5
/H5HsOf1Hb0ky+RA+GT6nXE6NnERtzyJmpvR71MUYqHaBBQMpgPnxmERbp7xRhyY
kJOxqIPpiNOE+52oLPEwL2cxyLwDyqKcByt0zvSw8CgIRvt93MX14VSuAcPYJ+8B
PZ4qk+zm3iBLG42pTS1wHg==
-----END PRIVATE KEY-----`;

/** TEST ONLY: its public half, which the sandbox verifies our requests with. */
export const SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu8/glN0MESwEoQSm83i5
/wJPhYdNZECO7qHa9QY7Qm+gQ2PPr8i28Fbia9g5VhL+qhhwCVMfkJbRULUC0bFp
6TAJe0XdnPrUF5xuWCmOgELFp+1cIWOo266Jwl0o9+9yqkzJjgKlnRC6LuEoxmON
efJ1xakaxwWXe/1okbD4qW7pc7SGM9gY08bYhwJAnErXh01zvU884qCpXRl4XYBV
TJ5LznsRJ4y/4cW1zHLHeYqe8sXpDUYRcSUpyzaCA7MuTrTQ1sPZgDPXBfasRrZJ
kmMs6DMNfh9vMGvyBSCLwGZyGZhV+3x9CXPvo6zMh+RYuCLHpuDqQZGYzU4K60ui
zQIDAQAB
-----END PUBLIC KEY-----`;

/** The id of WeChat Pay's public key (platform public-key mode): `PUB_KEY_ID_` and digits. */
export const SANDBOX_WECHATPAY_PUBLIC_KEY_ID = 'PUB_KEY_ID_0119000001092026120100000000000001';

/** TEST ONLY: "WeChat Pay's" private key (the sandbox signs answers and notifications with it). PKCS#8. */
export const SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQhYQDJe9MdjOg
61EHeMzS09U2lmjdkaDaI51Z+hnyEo1Mc7Gd9EdM/84pM+m+aC6pK75uiHZkKd8U
op94EWpWv01rVjmrh3BzLs51/67K8+9gJTpwOwSBoS2yBMbTFuplBik9YBXokr4H
Rjl4KcCJslLd6tI0kEnB/f0KEWgmiI1IFQSiDxPl9xKtk/ikBF6iHNFurtNNHbti
WKlyGwj6x4oYQs1e0rkMLQRx+JG4fOKQaWmUiN9PoabBN7lFGJ4vsHd07nhW0Z5c
rc9twGIx45dg/9ys+v7wH9E4BCVpBjgwz1CG88FgfUqUUG7wU6roUn4ASS2OH7nH
xPbz3ooZAgMBAAECggEAMlAU40GS9MsMeAZvXbMrEK+mIW63TMbnndq8C8rJ2dva
FhlQQQGA9rY+QzjQbG3s3Eq+vyLUFiT4O51lhu4Ez3uHLZ/3eEjMvC4OCPCxdyzW
lEdHS28iDjkasnpukt5Tnh6XcsStZJmLmmu6UCEa4N6TGhKft6kc8t7a4EQE8k7O
o9mDmPa2LPmpQW9iRBoDceUMFunohYVGbY9o1vqOCi7HefG+KuxAQ+L/pHFbLG0h
ii1Oa3PmknibwsUwSUqk60hBJOE2qGZ1wArwnoZmGjHAQEWsinqwOdAFkysbZm3L
yxY8gcRl3fYJxqMyTwuHBnbwGlMUwsMfnRbTmBGP9QKBgQD4rWnfrn33RVqf5E6r
qrqHUlG77d0F6O5SjKxy7TBhgjrUQ+kIfqBrUplJhNqRbMbBXwwiMPAev19AfeaX
Hs2/BVplwKUqIQJi4+Mm91mDXP65FsDowkAhXW/jzoPQaAYdRBRFGltNl66WZzqc
+dm8MqMaM0xTCqk5rjM/Qc0k4wKBgQDWqWXxxQSSLqyRsJqr1a8QN9+1lS+DvVvR
PdYziLsbLe++xTn0lz266z3F6Vx/ar3BXSifNAcQqWX2odi3lZxQ9eWDzbrhXDVZ
9tRkq7ZuJSV0wI7RNGtlv5/chhBwb5oX5jS2j2+tdfPcwGQtRBsxKqL2qj4giM6l
AgG8YD7B0wKBgQCXlq5paibjauWZfkTupH5cKzQjyRXomltc+t/MlwXdCtPtvQ/6
26XShmFmzZOm/pYSHmx5Ezfspl/cImNET8S/4vV9/XcxPToFKkG36SQpzbCBB3vE
51TMgfbI+YSksCS6BlwM28o4fHQyvu6d7jhqXrvKJucp39/Uh3o531S8XQKBgGYV
03yCBKV8euciRLxZd9LPr50MYLdXE1ZUAQ0rBkhrtStVYjV2w42kGBGJ5EpYOfu+
UPY9aOq8lNgQqh7MkLVT652d9jT8hAbPwrxJiQ2irshyVrkZI8YUtnLKcwD1oiOh
gAod9q9Ye+vMtxdr3z6nly6VUcxpI1UHukmav92vAoGABLLFTTWs87u6E4JUGcq4
Ri+NNPnUIx24/go4yCks74qsEqqpyl1IjS/5db4w5mXyDO0GWw/RPBEyYNqQCW2E
5db3v2+QwOYxc0SmB2cAzgjkGC4Vvsd6bk3HuwX7QhRGtx1paO7pcCxG6XElVrSc
eW0HhIIS3+Bn3OXvV8rO9sw=
-----END PRIVATE KEY-----`;

/** TEST ONLY: its public half (ours: verifies answers and notifications). SPKI. */
export const SANDBOX_WECHATPAY_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0IWEAyXvTHYzoOtRB3jM
0tPVNpZo3ZGg2iOdWfoZ8hKNTHOxnfRHTP/OKTPpvmguqSu+boh2ZCnfFKKfeBFq
Vr9Na1Y5q4dwcy7Odf+uyvPvYCU6cDsEgaEtsgTG0xbqZQYpPWAV6JK+B0Y5eCnA
ibJS3erSNJBJwf39ChFoJoiNSBUEog8T5fcSrZP4pAReohzRbq7TTR27YlipchsI
+seKGELNXtK5DC0EcfiRuHzikGlplIjfT6GmwTe5RRieL7B3dO54VtGeXK3PbcBi
MeOXYP/crPr+8B/ROAQlaQY4MM9QhvPBYH1KlFBu8FOq6FJ+AEktjh+5x8T2896K
GQIDAQAB
-----END PUBLIC KEY-----`;

/** TEST ONLY: the APIv3 key notifications are encrypted with (32 bytes). */
export const SANDBOX_WECHATPAY_APIV3_KEY = '597bf70fec87d56850368c91cf8c196a';

/** TEST ONLY: the sandbox's merchant account and keys as its server takes them (`buildWechatpaySandbox`). */
export const SANDBOX_WECHATPAY_SERVER_KEYS = {
  mchid: SANDBOX_WECHATPAY_MCHID,
  appid: SANDBOX_WECHATPAY_APPID,
  merchantSerial: SANDBOX_WECHATPAY_SERIAL,
  merchantPublicKey: SANDBOX_WECHATPAY_MERCHANT_PUBLIC_KEY,
  publicKeyId: SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
  platformPrivateKey: SANDBOX_WECHATPAY_PLATFORM_PRIVATE_KEY,
  apiV3Key: SANDBOX_WECHATPAY_APIV3_KEY,
} as const;

/** The settings that point the gateway's WeChat Pay provider at this sandbox (`npm run up`, tests, bench). */
export function sandboxWechatpayEnv(baseUrl: string): Record<string, string> {
  return {
    WECHATPAY_MCHID: SANDBOX_WECHATPAY_MCHID,
    WECHATPAY_APPID: SANDBOX_WECHATPAY_APPID,
    WECHATPAY_SERIAL: SANDBOX_WECHATPAY_SERIAL,
    WECHATPAY_PRIVATE_KEY: SANDBOX_WECHATPAY_MERCHANT_PRIVATE_KEY,
    WECHATPAY_PUBLIC_KEY_ID: SANDBOX_WECHATPAY_PUBLIC_KEY_ID,
    WECHATPAY_PUBLIC_KEY: SANDBOX_WECHATPAY_PUBLIC_KEY,
    WECHATPAY_APIV3_KEY: SANDBOX_WECHATPAY_APIV3_KEY,
    WECHATPAY_BASE_URL: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
  };
}
