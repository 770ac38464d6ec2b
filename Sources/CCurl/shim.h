#ifndef SORTIE_CCURL_SHIM_H
#define SORTIE_CCURL_SHIM_H
#include <curl/curl.h>
#include <openssl/crypto.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
// one typed wrapper per argument kind Sortie uses.
typedef size_t (*sortie_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode sortie_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode sortie_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode sortie_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode sortie_curl_setopt_callback(CURL *handle, CURLoption option, sortie_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode sortie_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode sortie_curl_getinfo_socket(CURL *handle, CURLINFO info, curl_socket_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
// libcurl initialises OpenSSL with every cipher entered into its legacy name table; TLS in
// OpenSSL 3 fetches ciphers from its providers, so the table is never read: asking first for none
// makes curl's own request a no-op (OpenSSL runs each part of its set-up once). The digest table
// must stay: certificate verification looks a signature's digest up in it (by NID) to rate its
// strength, and without it every CA-issued chain is refused as "CA signature digest algorithm too
// weak" (self-signed certificates are not rated, so only a chain shows it: PackagedTLSTests).
static inline CURLcode sortie_curl_global_init(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ADD_ALL_CIPHERS, NULL);
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}
#endif
