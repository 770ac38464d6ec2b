#ifndef SORTIE_CCURL_SHIM_H
#define SORTIE_CCURL_SHIM_H
#include <curl/curl.h>

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
#endif
