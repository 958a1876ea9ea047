/**
 * TEST ONLY. These RSA key pairs are published with the source: only our local Alipay sandbox
 * accepts them. The configuration has no defaults: `npm run up`, the demo, docker-compose and the
 * tests give them (`sandboxAlipayEnv`), and the gateway refuses them for an ALIPAY_ENDPOINT that is
 * not a local sandbox. Never use them against Alipay (README, "Taking real money").
 */

/** The sandbox's app id (real ones are 16 digits too). */
export const SANDBOX_ALIPAY_APP_ID = '2021000000000001';

/** TEST ONLY: the app's private key (ours: signs requests). PKCS#8. */
export const SANDBOX_APP_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQCbYwdfCfs3zaLY
/qJW06FD/LzLgnCpymV2DeT1xylVwtV9jx5CnyjVTNrnLO8CdUpIUp1415a3QpSj
5iDI1wsB8dENcrj/SDeu1AxQKiSjC9RW6K0rca6D6zGaogAArCoDReNXOfsdP3l8
Nflh5GIOZwUHb1UE8rBNo8Eho9BLrd7VNZcnSd5vkozJA2Rd/MpMPaiGBP6Cn880
NM10Z86a6O6ugu2ntD31te+u1zczCmCw8rzZIrcw+VRtfLKW03VtQr61XrPdA40g
n7X74uWD4o0cHG4tD0vRHgtSJJ7mIcR60JyAB3I3Afm7hrUGO8SrtOHXQV1taR2w
3FKAcN+9AgMBAAECgf91525wbuJwNVibzprfxzVWoS+gPBnAvBLAwUo6NCTpLi1Q
WIhdhOc28lonj7DL7LOwrP9P8kYqSBsBQl0eCA4SK6q0yZgWHHYj8kJlkZS7Iv67
81Fy5Y/GCXBaJRJbcEdwtFcMmLIyPzevSEUyQlklFIZ8Xb3lQ0EDqH2jSOmEgfsl
tXjqtLD15PxMw+2iIfKc7vvQuofCyrg76rPm3rRm8T/xxmTYyj6eh9S23sefApgk
NUBAmKJUhz7fKXK5dEx9utPEuILcGD95shobHKFWe7LReOqhhKmuaiKdjniWtwQh
ZLYUFjj2ZdbOxoZ9GyfT1efUI+f4LwgrSiQ7hvkCgYEAyCtUfupijLx+DOFM0gjw
V6JIsyi5hocMF0fi3wR429UydetSBNexfnkV/zqdksQL+OsfrWqIyrktrjrvAAdJ
SezUHVbCrgS1mxvmsLuVTtcyqCwIuXqrOSm92xAVkUtOXP3klSvugUNeNN59JDU9
FAneRRXZ8MZsUb/qgn3emeUCgYEAxroaQ+RexnFm8FQbv5p8sPCe1rmYxMN4ujH9
AsYoy4k5uyK0lPdOE58vp6W13HSKzl5NG1hmBEl0kZKNRqTBKURuNfbDMOZVDUWz
+fspXWmnnA5+JT2DpQGMlGDGyOITg14SIGfNbMSyMqLmM+LxUilDXEq7yhPsppNH
uZOlcPkCgYAdujmpQ5vxNMkvloI3KzaufR545RJwhTvpdTafUmW0mDwPQSyEJZhp
pQf8SLNAKbdxd1HUCl9YZBoBpyT5hxt+TBrQZKMy/uYNrB4dny40cEdIrIl7Klml
eqqEjyX01w9DRj2dXdHlBqFGDsjdCL8Sa8jDz9P3KzDJD0x/prvZdQKBgAl6mwIe
BH9GrXhNKr2q6sOt1oW7eJP6FuoatEzLkuqScxSABUkNusWo1CcU+mW3kV9ilB73
ynXt4weGjAKQnT4Qq4kbahgNBIWLi5gi6Mgx3/LLpiy0kHDwb/or2499aRzdAdRV
3zCO+Uj9CCn1azlWCoZ+chKjfKg9YjBx4HRRAoGBAL67JyOpB60wO5NXpwgRqZNg
yPs9Szcxrk+JgKLbgneMOgFblyIQrQwHOeZdBeq3s4vErF01b9rCK9pwDNIxlmFQ
cfOZdkV81XszgCfn/MTzg7s6cRqSaDiF2Yy4sU6xsrRkDd4ODgybLYquJUS94zRU
69/xXhWBXuSGugDqfRse
-----END PRIVATE KEY-----`;

/** TEST ONLY: the app's public key (the sandbox verifies our requests with it). */
export const SANDBOX_APP_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAm2MHXwn7N82i2P6iVtOh
Q/y8y4Jwqcpldg3k9ccpVcLVfY8eQp8o1Uza5yzvAnVKSFKdeNeWt0KUo+YgyNcL
AfHRDXK4/0g3rtQMUCokowvUVuitK3Gug+sxmqIAAKwqA0XjVzn7HT95fDX5YeRi
DmcFB29VBPKwTaPBIaPQS63e1TWXJ0neb5KMyQNkXfzKTD2ohgT+gp/PNDTNdGfO
mujuroLtp7Q99bXvrtc3MwpgsPK82SK3MPlUbXyyltN1bUK+tV6z3QONIJ+1++Ll
g+KNHBxuLQ9L0R4LUiSe5iHEetCcgAdyNwH5u4a1BjvEq7Th10FdbWkdsNxSgHDf
vQIDAQAB
-----END PUBLIC KEY-----`;

/** TEST ONLY: the sandbox's "Alipay" private key (signs its answers and notifications). */
export const SANDBOX_ALIPAY_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC66BvFAHc9yOhS
uyFpxpuMhHE/1csEDG6YL6lttTCjXxZUyLY95vhoR+g1KpFCplInRLiyQ6LH6F8o
X4K59lvvJG9lqmwoKDxPnkDJRYVbMs5VsyRSz1gtNnvaoOanKYHE1g2Ew2HmnNCQ
GYMcGnYqzwX5NP/bwXxNdca20KSnWAX8ZNeueo7z1fykwUHRdKsMk9w42lXgU12j
Pqxokvo4uC8siLeuzHG/HicaOIbIzsmIL9mNS4TqHS99+iUPF9KghqRtggJWGXXv
ep46/4Zqdx2ycq8zRh/WWtIVbGL179clK+kG/5S92Xzrthc//dv72B4OtVTnlCgu
8rNXABVjAgMBAAECggEAF30L4FoKoi0ZZSw3Kr/W1HXgdZE8jimxzFZRCIR4tE9C
0yzWGjlohlJjECtlTebw9BZiz6RIVK8TJlO6bfxT2V3O0gv0w6cqzSaqJaEi/S8J
VyPIMM/12Ni7/+GwmtlQgZgU4tZa+0xBuZo7K9D3gLG7onHSpZ9PK7zdWCQoTQ8/
1kGAwo1M/OO2u77HZlyeob+Vw+PxqhP7o49V9NI+KBTkUnwdWpD2fSjic4Mz7rrk
372qhoAc8XsKCvos6l4KkJi/zUI3QwiCKDEkSoMVqmY8Nk7wqYI4c771bftNbEAt
UzfC/A+h45lVMQdfbp6rasdEdFw7tyyASOWBEgs/AQKBgQDcXfvS6gtBy3ZBRl5g
rYwkmuh5jaZEguKBdDcVKzNebksm2i217L9HZhejIdTyHlMlAKCdGych/ebrCSBr
Xn7i2YHXibMvp809yWIgKJnHBT7aqxJIRZFtygi9v2+JoE4ClQHVc+cd2zUuFVu0
01Ogn9q8+myblFJLaVeyd74ygwKBgQDZIQquWtAL0LKsV2BrXLo+Iib8m7uqertn
8oMBaiB6xTvIzqyS5QqFiqdKBOUm8eLZyUCWdQtJ4eSYkREuS+u2gKsFJmMilm7e
+xk5M9y6YD/jpizWEUyxXYch+7Mjc0w9pIVkZWJhpf3tSZdq0S80OjZY4oeiN8Xr
hiP002+boQKBgQC9wwTeXAJzlvRvQ1x0Hh5HS0oTmkHqT1cjqOLiDMCAebOnckvY
lFUm86g5JyILmMd6Xq7wevhY0h6umL5dFxNm32xrIb22tOYNZcRk8vFxK3gzrwrg
R1/zTf32/8nZlrx2hr/8goEr+Z8y3tuIvE4QTHd9Mpyh4Lh5De6h1XFoZwKBgGwp
eI+ob3EjUo5lrINvGtvu2WsHDTJ8lzTN6xLeUjW2YPTEd9VpQZeKnZFS5PBEmNQS
3BjXT3tLizuxMFTWvyIX8JnNKJ9HPw3XGhaTzkYNwmXeFwHAdmr4g2ObZf6n5ffj
KAv+MUchkGAPQ92TPSeQRBh9KEHX9MFB/lFsrnFhAoGAWb5iD17HvZwPWdB7lcD6
Nyl90F/Voxc4jO0dGRnjspvmW9UXYlByxoR7+XWR4nRqHwS0hQKSIjtDP+C8bWkB
7koDlnXryq2vaAaF77LtIlfSfSew1mMZVJUAlhTgWGnSQlrnUjU5Ohf/7c9gjJsx
sn3gI+b4zkDFNA/BK0PtsHg=
-----END PRIVATE KEY-----`;

/** TEST ONLY: the sandbox's "Alipay" public key (we verify its answers and notifications with it). */
export const SANDBOX_ALIPAY_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuugbxQB3PcjoUrshacab
jIRxP9XLBAxumC+pbbUwo18WVMi2Peb4aEfoNSqRQqZSJ0S4skOix+hfKF+CufZb
7yRvZapsKCg8T55AyUWFWzLOVbMkUs9YLTZ72qDmpymBxNYNhMNh5pzQkBmDHBp2
Ks8F+TT/28F8TXXGttCkp1gF/GTXrnqO89X8pMFB0XSrDJPcONpV4FNdoz6saJL6
OLgvLIi3rsxxvx4nGjiGyM7JiC/ZjUuE6h0vffolDxfSoIakbYICVhl173qeOv+G
ancdsnKvM0Yf1lrSFWxi9e/XJSvpBv+Uvdl867YXP/3b+9geDrVU55QoLvKzVwAV
YwIDAQAB
-----END PUBLIC KEY-----`;

/** The settings that point the gateway's Alipay provider at this sandbox (`npm run up`, tests, bench). */
export function sandboxAlipayEnv(endpoint: string): Record<string, string> {
  return {
    ALIPAY_APP_ID: SANDBOX_ALIPAY_APP_ID,
    ALIPAY_PRIVATE_KEY: SANDBOX_APP_PRIVATE_KEY,
    ALIPAY_PUBLIC_KEY: SANDBOX_ALIPAY_PUBLIC_KEY,
    ALIPAY_ENDPOINT: endpoint,
  };
}
