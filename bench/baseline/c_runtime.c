/* The comparison point for Sortie's runtime: the smallest honest Runtime API loop in C on
 * libcurl (one reused easy handle, like aws-lambda-cpp), echoing each payload back. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buffer { char *data; size_t size; };

static size_t on_body(char *ptr, size_t size, size_t count, void *context) {
    struct buffer *body = context;
    size_t bytes = size * count;
    body->data = realloc(body->data, body->size + bytes + 1);
    memcpy(body->data + body->size, ptr, bytes);
    body->size += bytes;
    return bytes;
}

static size_t on_header(char *ptr, size_t size, size_t count, void *context) {
    static const char name[] = "lambda-runtime-aws-request-id:";
    size_t bytes = size * count;
    if (bytes > sizeof(name) && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        char *id = context;
        size_t start = sizeof(name) - 1;
        while (start < bytes && ptr[start] == ' ') start++;
        size_t end = bytes;
        while (end > start && (ptr[end - 1] == '\r' || ptr[end - 1] == '\n')) end--;
        size_t length = end - start < 127 ? end - start : 127;
        memcpy(id, ptr + start, length);
        id[length] = 0;
    }
    return bytes;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) { fprintf(stderr, "AWS_LAMBDA_RUNTIME_API is not set\n"); return 1; }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    char next_url[256], url[512], id[128];
    snprintf(next_url, sizeof next_url, "http://%s/2018-06-01/runtime/invocation/next", api);
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    for (;;) {
        struct buffer body = {0};
        id[0] = 0;
        curl_easy_setopt(curl, CURLOPT_URL, next_url);
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, id);
        if (curl_easy_perform(curl) != CURLE_OK) { fprintf(stderr, "next failed\n"); return 1; }
        snprintf(url, sizeof url, "http://%s/2018-06-01/runtime/invocation/%s/response", api, id);
        struct buffer ignored = {0};
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data ? body.data : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.size);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ignored);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, id);
        if (curl_easy_perform(curl) != CURLE_OK) { fprintf(stderr, "response failed\n"); return 1; }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        free(body.data);
        free(ignored.data);
    }
}
