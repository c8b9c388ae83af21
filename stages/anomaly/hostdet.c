/* hostdet.c -- the light per-host burst detector (see hostdet.h). */
#include "anomaly/hostdet.h"

#include <math.h>
#include <string.h>

#define S_LAMBDA_MIN 0.05  /* floor of the expected count: "never sent" is not "impossible" */
#define S_PHI_MAX 50.0     /* dispersion cap */
#define S_L_HALF 5.0       /* surprise (nats) scored 0.5, as detector.c */
#define S_NORMAL_FROM 1000.0 /* lambda above which the normal approximation is used */

void gh_hostdet_defaults(gh_hostdet_cfg_t *c)
{
    c->window = 288;
    c->warmup = 60;
    c->min_count = 5;
    c->fire_nats = 16;
    c->end_nats = 3;
    c->end_quiet = 3;
}

void gh_hostdet_init(gh_hostdet_t *d, uint32_t zeros)
{
    memset(d, 0, sizeof *d);
    d->n = zeros;
}

double gh_poisson_tail_nats(double x, double lam)
{
    if (!(lam > 0) || !(x > lam)) return 0;
    if (lam > S_NORMAL_FROM) {
        /* normal approximation with continuity correction */
        double z = (x - 0.5 - lam) / sqrt(lam);
        if (z <= 0) return 0;
        double p = 0.5 * erfc(z / sqrt(2.0));
        if (p > 0) return -log(p);
        return 0.5 * z * z + log(z * sqrt(2 * M_PI));   /* the tail's asymptote */
    }
    /* log of the first term of the tail, then the ratio series: each next
     * term is lam / (x + j) of the one before, < 1 since x > lam */
    double lt = -lam + x * log(lam) - lgamma(x + 1);
    double sum = 1, t = 1;
    for (int j = 1; j < 2000; j++) {
        t *= lam / (x + j);
        sum += t;
        if (t < 1e-12 * sum) break;
    }
    double lp = lt + log(sum);
    return lp < 0 ? -lp : 0;
}

static double s_score(double nats)
{
    double l = nats / S_L_HALF;
    l = l * l * l * l;
    return l / (1.0 + l);
}

void gh_hostdet_step(gh_hostdet_t *d, const gh_hostdet_cfg_t *c, double x, gh_det_out_t *out)
{
    memset(out, 0, sizeof *out);
    if (!isfinite(x) || x < 0) x = 0;
    double lam = d->lambda > S_LAMBDA_MIN ? d->lambda : S_LAMBDA_MIN;
    double phi = d->var / lam;
    if (!(phi >= 1)) phi = 1;
    if (phi > S_PHI_MAX) phi = S_PHI_MAX;
    double nats = gh_poisson_tail_nats(x / phi, lam / phi);
    int warm = d->n >= (uint32_t)c->warmup;
    int hot = warm && nats >= c->fire_nats && x >= c->min_count && x > lam;

    if (!d->in_burst) {
        if (hot) {
            d->in_burst = 1;
            d->quiet = 0;
            d->reported = x;
            out->event = GH_DET_START;
        }
    } else {
        if (nats < c->end_nats) d->quiet++;
        else d->quiet = 0;
        if (d->quiet >= c->end_quiet) {
            d->in_burst = 0;
            out->event = GH_DET_END;
        } else if (x >= 2 * d->reported && x > d->reported) {
            d->reported = x;
            out->event = GH_DET_UPDATE;
        }
    }

    /* learn the rate: a plain mean while young, then exponentially
     * weighted; the count winsorised so that a burst barely moves it */
    double clip = lam + 3 * sqrt(phi * lam) + 1;
    double xc = x < clip ? x : clip;
    double alpha = 2.0 / (c->window + 1);
    if (d->n + 1 < 1.0 / alpha) alpha = 1.0 / (d->n + 1);
    double dv = xc - d->lambda;
    d->lambda += alpha * dv;
    d->var = (1 - alpha) * (d->var + alpha * dv * dv);
    if (d->n < UINT32_MAX) d->n++;

    out->score = out->surprise = s_score(nats);
    out->baseline = lam;
    out->scale = sqrt(phi * lam);
    out->in_burst = d->in_burst;
    out->warm = warm;
    out->peak = d->reported;
}
