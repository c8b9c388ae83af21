/* check.h -- the tiny test helper every unit test uses.
 *
 * CHECK(cond) and CHECK_EQ/CHECK_STR print the expression and both values on
 * failure and count it; TEST_MAIN_END() prints "N checks, N failed" and turns
 * the count into the exit status.  A test that must be skipped (missing data)
 * exits with TEST_SKIP (77), which tests/run.sh reports as skipped, never as
 * passed.
 */
#ifndef GH_CHECK_H
#define GH_CHECK_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#define TEST_SKIP 77
static int check_total, check_failed;

#define CHECK(c) do { check_total++; if (!(c)) { check_failed++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); check_total++; \
    if (_a != _b) { check_failed++; fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_NEAR(a, b, eps) do { double _a = (double)(a), _b = (double)(b); check_total++; \
    if (!(_a - _b <= (eps) && _b - _a <= (eps))) { check_failed++; fprintf(stderr, \
    "%s:%d: CHECK_NEAR(%s, %s) failed: %g vs %g\n", __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); check_total++; \
    if (!_a || !_b || strcmp(_a, _b)) { check_failed++; fprintf(stderr, \
    "%s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
    _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)
#define CHECK_MEM(a, an, b, bn) do { size_t _an = (an), _bn = (bn); check_total++; \
    if (_an != _bn || memcmp((a), (b), _an)) { check_failed++; fprintf(stderr, \
    "%s:%d: CHECK_MEM(%s, %s) failed: \"%.*s\" != \"%.*s\"\n", __FILE__, __LINE__, #a, #b, \
    (int)_an, (const char *)(a), (int)_bn, (const char *)(b)); } } while (0)

#define TEST_MAIN_END() do { printf("%d checks, %d failed\n", check_total, check_failed); \
    return check_failed ? 1 : 0; } while (0)
#endif
