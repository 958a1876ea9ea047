/**
 * TEST ONLY. A WeChat Pay *platform certificate* of our sandbox and its private key, published with
 * the source: before public-key mode WeChat Pay signed answers and notifications with a platform
 * certificate's key, under the certificate's hex serial, and a merchant migrating to its public key
 * receives both for a while. The sandbox signs with this one when a request does not carry
 * `Wechatpay-Serial: PUB_KEY_ID_…`, and notifications under the `notifySignWith: 'platform-cert'`
 * fault. Only the sandbox holds it; never configure it against WeChat Pay.
 */

/** The certificate's serial number, as WeChat Pay writes it in `Wechatpay-Serial` (upper-case hex). */
export const SANDBOX_WECHATPAY_PLATFORM_CERT_SERIAL = '3A7F1C52D09E4B68A1F27C3E95D40B8612CE7F3D';

/** TEST ONLY: the certificate's private key (signs as "WeChat Pay" under the serial). PKCS#8. */
export const SANDBOX_WECHATPAY_PLATFORM_CERT_PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCUgjSIfzt+Ysaj
Bn4d4Yl+FSNQGstGxhiOWxAtRg7sBP7d0gG4dbIdg8iJ70XffXcKzyhTYX0akut3
rFHdg4GkMSJrxxBGqLk0F9r4NankKbbTdkDcuzvCLf+KYJA7or8PlVLiQkA/JFFs
oF2jNQLcWsrMO1r1lKKXr16AceA+/fTdvyEQ8bFMG3Qtd8EiY0dD3LAWrzKRKdzf
OKQLUunUoYefZ2k8U/46Pp2iIGd35E9ASiaboHVkResJcDXMU6kvaG50E+WhcaHr
QR3+kY7LN9IRNTADL5LFkWj0z/9U/G7gaj1zqw3/CxyxEFkyNeeushcJ0nSG6nJm
Zrz48qxHAgMBAAECggEAB3MWnog/XEIpM7FWLzqKkpwN1u1ZKBY00iNIRvUeN4Gy
pT7tHistQaTEMQMjLqhVCeJFZBVeWLBpBmpK+wEnRiy+zMhCDUFWdQIDVnMesBbV
mHr0mv37a+yxxme8pHkv+2CitT3cii5QtVHAELlOiO43ARKzJ+GKXHCMHYZY2OAB
yukYdNpsqcd6Cc0Mw3XNQ0OrGn/r3hNmG0CtozIsKBI9lAbTpDCR19MOMhvAmxaa
sFdu6CxnDaAMwqDhdfICC/Xls+yQJ2TgPW976rFlWFBoZYwNq2SmVwmRlYnrEnza
3GiE7Z0CCViV897kdAV6Dqm4IXb6kTLDAqmMIZBFZQKBgQDNwu0it5QoQjA1fBXh
SQQlZ+eGdS1YQuPT3YRP1fK/x2FhoyjayjHDprPuZDu9m8aP1daqaB6lt7HDJyZo
DQP+jfrjIqJ7gIg3KkORkth6ohGr05HtTV+sKFiveDJY3STdFpB/a4WeqlcmOb+T
TRihsCFlK4efKQfmqnsqruCzkwKBgQC4xLQ35kgenM+naEs1gZE5htmvPnQoaQpV
ROxxf2gUYnz0KovAjerIRTYxd8FVHCYE9Wbjws3VlxQRP6TxxqwjfQcXsaun4iVK
Bh9HLhBebtzRU4X23kev0UkHbVBk1Jd+YM/xfnnL0FAv5i0zJ4Es6L1ondiESh59
c2EONkJ8/QKBgQDIBny8yTXwRRfUhsJGddLgAjhiz7q7GJueNLQRYG1R3iNe5Vws
BW+HQaGdWDdzReIrpbe/hOR2OTNIAeEmObDuX1vMPrkx0muZJS72b4ie/rqrDUvJ
IvSkybwdKH3ZQXI6s1rZY89LxVBfSrhgHAyb8jskvMJlCWAy7vw5LDQonQKBgQCq
dpfKBsO8snGGAlt4xsvj5fyJiDYEXjxxRMBbSe8M93xOi74ZbRURpYEFDHYqfmi5
JGrDcKMUDmkuLKiRgvinWR8lBf7XSXWboKBUvDPP27oPyV4LzzEWDSCyIHEORXBq
4QiXxVa66bpBJrvGuQidFTBCB3aNPhB5Lux4/yhCRQKBgCkTGYK6hDhzP+VB5rmF
v+rBktHKp+sZYSEPHmg9NM6wZAWzcUGP3L37PNLmWKoaa6ZAfQjpul+vdWzIK5Jw
IwuYPeP5dMm66pa5smR4q1Cunc0sTefyagHC9enO7ASrbr9jdhJoVmAF71XRzDfu
/L35TttHzwlVb/yJboqdFHTw
-----END PRIVATE KEY-----
`;

/** The self-signed X.509 certificate (what a merchant sets in `WECHATPAY_PLATFORM_CERTS`), valid until 2126. */
export const SANDBOX_WECHATPAY_PLATFORM_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIID8zCCAtugAwIBAgIUOn8cUtCeS2ih8nw+ldQLhhLOfz0wDQYJKoZIhvcNAQEL
BQAwgYcxCzAJBgNVBAYTAkNOMRMwEQYDVQQKDApUZW5wYXkuY29tMTEwLwYDVQQL
DChUZW5wYXkuY29tIENBIENlbnRlciAoVEVTVCBPTkxZIHNhbmRib3gpMTAwLgYD
VQQDDCdUZW5wYXkuY29tIHNhbmRib3ggcGxhdGZvcm0gY2VydGlmaWNhdGUwIBcN
MjYxMjAyMjMxMzUxWhgPMjEyNjExMDgyMzEzNTFaMIGHMQswCQYDVQQGEwJDTjET
MBEGA1UECgwKVGVucGF5LmNvbTExMC8GA1UECwwoVGVucGF5LmNvbSBDQSBDZW50
ZXIgKFRFU1QgT05MWSBzYW5kYm94KTEwMC4GA1UEAwwnVGVucGF5LmNvbSBzYW5k
Ym94IHBsYXRmb3JtIGNlcnRpZmljYXRlMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A
MIIBCgKCAQEAlII0iH87fmLGowZ+HeGJfhUjUBrLRsYYjlsQLUYO7AT+3dIBuHWy
HYPIie9F3313Cs8oU2F9GpLrd6xR3YOBpDEia8cQRqi5NBfa+DWp5Cm203ZA3Ls7
wi3/imCQO6K/D5VS4kJAPyRRbKBdozUC3FrKzDta9ZSil69egHHgPv303b8hEPGx
TBt0LXfBImNHQ9ywFq8ykSnc3zikC1Lp1KGHn2dpPFP+Oj6doiBnd+RPQEomm6B1
ZEXrCXA1zFOpL2hudBPloXGh60Ed/pGOyzfSETUwAy+SxZFo9M//VPxu4Go9c6sN
/wscsRBZMjXnrrIXCdJ0hupyZma8+PKsRwIDAQABo1MwUTAdBgNVHQ4EFgQUYHcr
Xn/o+fA75Hy6/EpnEhaj3jUwHwYDVR0jBBgwFoAUYHcrXn/o+fA75Hy6/EpnEhaj
3jUwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAJPtoPan9lbNj
T83mB75YAK1WmCWB5JpuVxhYefljMYzzYb1+U+Sgqel1h9gsOPfopxfJTWThaCVC
odKktEj3ffcW+3ZV4HfKOOjrZQyQS0BFPLh7CrjDaHXRCHuuSx/N7QC9FXC77j1a
+22/n6uGMGsyid6Se9Bfm2FGZ6ymkh1/YGy3B8p6lZoB7rAVbKQw1Aw/CJCELEGo
rX62yPBT6FraAp6YcNBIaQjeWdy/6DJYDtDSeTUoIiMTqjT/ZXeXC0vjK8lEciII
aC2DNG2i+bbxoyQ8unZelbaOZEnA3SxnvTta8Sia0mNCM5jpjlt/ZUoXeOrXPJm5
iboBHZraww==
-----END CERTIFICATE-----
`;
