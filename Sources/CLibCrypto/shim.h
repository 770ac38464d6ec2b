#ifndef SORTIE_CLIBCRYPTO_SHIM_H
#define SORTIE_CLIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

// The bootstraps already link OpenSSL's libcrypto for TLS, so SigV4 hashes with it
// instead of shipping a second crypto library. One-shot helpers keep Swift away from
// OpenSSL's context lifetimes.
static inline int sortie_sha256(const void *data, size_t length, unsigned char out[32]) {
    return SHA256((const unsigned char *)data, length, out) != NULL;
}
// SHA-1 only names files: the SSO token cache's, as the AWS CLI names them.
static inline int sortie_sha1(const void *data, size_t length, unsigned char out[20]) {
    return SHA1((const unsigned char *)data, length, out) != NULL;
}
static inline int sortie_hmac_sha256(const void *key, size_t keyLength, const void *data, size_t length, unsigned char out[32]) {
    unsigned int outLength = 32;
    return HMAC(EVP_sha256(), key, (int)keyLength, (const unsigned char *)data, length, out, &outLength) != NULL;
}
// SCRAM (Kafka's SASL/SCRAM-SHA-256 and -512): the digest is picked by its size in bytes.
static inline const EVP_MD *sortie_digest(int size) {
    return size == 64 ? EVP_sha512() : EVP_sha256();
}
static inline int sortie_digest_bytes(int size, const void *data, size_t length, unsigned char *out) {
    unsigned int outLength = (unsigned int)size;
    return EVP_Digest(data, length, out, &outLength, sortie_digest(size), NULL);
}
static inline int sortie_hmac(int size, const void *key, size_t keyLength, const void *data, size_t length, unsigned char *out) {
    unsigned int outLength = (unsigned int)size;
    return HMAC(sortie_digest(size), key, (int)keyLength, (const unsigned char *)data, length, out, &outLength) != NULL;
}
static inline int sortie_pbkdf2(int size, const char *password, size_t passwordLength, const unsigned char *salt, size_t saltLength, int iterations, unsigned char *out) {
    return PKCS5_PBKDF2_HMAC(password, (int)passwordLength, salt, (int)saltLength, iterations, sortie_digest(size), size, out);
}
#endif
