/* sig.c -- see sig.h. */
#include "sig.h"
#include <string.h>

volatile sig_atomic_t gh_stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    if (gh_stop_requested < 2) gh_stop_requested++;
}

void gh_sig_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
