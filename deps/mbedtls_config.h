/*
 * snp-unseal's mbedTLS 3.6 configuration. deps/build installs it as
 * <mbedtls/mbedtls_config.h>, so the library, libcryptsetup's mbedTLS
 * backend and our own code all see the same options.
 *
 * Everything not listed here is off. deps/README.md says why each group is on.
 */
#ifndef SNP_UNSEAL_MBEDTLS_CONFIG_H
#define SNP_UNSEAL_MBEDTLS_CONFIG_H

/* Platform: a Linux userspace with a clock (certificate validity). */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_DEPRECATED_REMOVED
#define MBEDTLS_FS_IO
#define MBEDTLS_ERROR_C
#define MBEDTLS_VERSION_C

/* Randomness: getrandom() entropy feeding CTR-DRBG (AES-256). */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* Hashes. SHA-1 only for LUKS2 digests converted from LUKS1 volumes. */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
/* Our own SHA-256 block function (deps/mbedtls_sha256_x86.c, added to
 * libmbedcrypto.a by deps/build): the x86 SHA extensions for the PBKDF2
 * that libcryptsetup runs on every LUKS2 unlock, portable C elsewhere. */
#define MBEDTLS_SHA256_PROCESS_ALT
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_PKCS5_C

/* Symmetric: AES-GCM for TLS and sealing; AES-XTS and AES-CBC for LUKS2
 * keyslots, which libcryptsetup decrypts in userspace through mbedTLS and
 * which use the volume's cipher (aes-xts-plain64 today, aes-cbc-essiv on
 * older volumes); CCM only because libcryptsetup's backend links against
 * it (BitLocker keys). */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CCM_C
#define MBEDTLS_CIPHER_MODE_XTS
#define MBEDTLS_CIPHER_MODE_CBC

/* Public key: ECDHE and ECDSA on P-256 and P-384; RSA verification for
 * AMD's RSA-4096 PSS certificates and for ordinary CA chains (PKCS#1 v1.5). */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_RSA_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* X.509 certificate parsing and chain verification. */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

/* TLS 1.3 only, client and server, ephemeral (EC)DHE key exchange, with
 * the keying-material exporter that binds attestation to the channel. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_KEYING_MATERIAL_EXPORT
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE

/* The broker runs TLS and PSA on several threads: PSA key slots and the
 * DRBGs need their locks (deps/README.md). */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD
/* One PSA key slot per key in use, allocated as needed: every TLS 1.3
 * handshake in flight holds keys, and a fixed store of 32 slots refuses
 * the 33rd concurrent handshake (deps/README.md). */
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC

#endif /* SNP_UNSEAL_MBEDTLS_CONFIG_H */
