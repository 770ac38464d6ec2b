/* Init, timed as plainly as this machine allows: posix_spawn a function with
 * AWS_LAMBDA_RUNTIME_API pointing at a blocking listener here, and time spawn → the first bytes
 * of its first `GET …/invocation/next`. No event loop between the two clocks (runtime-bench's
 * Runtime API is SwiftNIO's); runs alternate between the functions, the median is printed.
 *   init_timer RUNS LABEL=PATH [LABEL=PATH …] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One start: -1 when the function did not ask for its next invocation within 5 s. */
static double one_start(const char *path) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) { perror("listen"); exit(1); }
    char api[64];
    snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", ntohs(address.sin_port));
    size_t count = 0;
    while (environ[count]) count++;
    char **variables = calloc(count + 2, sizeof *variables);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp(environ[i], "AWS_LAMBDA_RUNTIME_API=", 23) != 0) variables[kept++] = environ[i];
    variables[kept++] = api;
    char *arguments[] = {(char *)path, NULL};
    struct timeval patience = {.tv_sec = 5};
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    pid_t pid;
    double started = now_ms();
    if (posix_spawn(&pid, path, NULL, NULL, arguments, variables) != 0) { perror(path); exit(1); }
    double elapsed = -1;
    int connection = accept(listener, NULL, NULL);
    if (connection >= 0) {
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        char request[256];
        ssize_t got = recv(connection, request, sizeof request - 1, 0);
        if (got > 0) {
            request[got] = 0;
            if (strstr(request, "/runtime/invocation/next")) elapsed = now_ms() - started;
        }
        close(connection);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(listener);
    free(variables);
    return elapsed;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s RUNS LABEL=PATH…\n", argv[0]); return 64; }
    int runs = atoi(argv[1]), functions = argc - 2;
    double *samples = calloc((size_t)runs * functions, sizeof *samples);
    for (int run = 0; run < runs; run++)
        for (int f = 0; f < functions; f++) {
            double ms = one_start(strchr(argv[2 + f], '=') + 1);
            if (ms < 0) { fprintf(stderr, "%s did not ask for an invocation\n", argv[2 + f]); return 1; }
            samples[f * runs + run] = ms;
        }
    for (int f = 0; f < functions; f++) {
        qsort(samples + f * runs, runs, sizeof *samples, compare);
        int label = (int)(strchr(argv[2 + f], '=') - argv[2 + f]);
        printf("%-15.*s init (spawn → first next, blocking listener) median of %d: %.2f ms  (min %.2f, max %.2f)\n", label, argv[2 + f], runs,
               samples[f * runs + runs / 2], samples[f * runs], samples[f * runs + runs - 1]);
    }
    return 0;
}
