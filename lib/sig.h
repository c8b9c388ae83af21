/* sig.h -- SIGTERM/SIGINT handling: the handler only sets a flag.
 * The first signal asks for a graceful stop (drain, flush, end-of-stream);
 * a second one asks to stop now. */
#ifndef GH_SIG_H
#define GH_SIG_H
#include <signal.h>
extern volatile sig_atomic_t gh_stop_requested; /* 1 after the first signal, 2 after the second */
void gh_sig_install(void);
#endif
