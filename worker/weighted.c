/* Weighted priorities: stride scheduling over claimed tasks (weighted.h says why). */
#include "worker/weighted.h"

#include <stdint.h>
#include <string.h>

/* Passes grow by tasks / weight; they are moved back towards 0 once the smallest passes
 * this, long before a double loses the precision to tell one task apart (2^53). */
#define REBASE_AT 1e12

void spindle_weighted_init(spindle_weighted *w, const int *weights, size_t n)
{
    memset(w, 0, sizeof(*w));
    w->n = n < SPINDLE_WEIGHTED_MAX ? n : SPINDLE_WEIGHTED_MAX;
    for (size_t i = 0; i < w->n; i++) {
        w->weight[i] = weights[i] > 0 ? weights[i] : 1;
        w->busy[i] = 1;
    }
}

void spindle_weighted_order(const spindle_weighted *w, size_t *order)
{
    /* Insertion sort by pass, stable so that ties keep the configured order: n <= 32. */
    for (size_t i = 0; i < w->n; i++) {
        size_t j = i;
        while (j > 0 && w->pass[order[j - 1]] > w->pass[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

int spindle_weighted_claim_max(const spindle_weighted *w, size_t q, int batch)
{
    if (batch < 1)
        batch = 1;
    for (size_t i = 0; i < w->n; i++)
        if (i != q && w->busy[i])
            return w->weight[q] < batch ? w->weight[q] : batch;
    return batch;
}

static void rebase(spindle_weighted *w)
{
    double least = w->pass[0];
    for (size_t i = 1; i < w->n; i++)
        if (w->pass[i] < least)
            least = w->pass[i];
    if (least < REBASE_AT)
        return;
    for (size_t i = 0; i < w->n; i++)
        w->pass[i] -= least;
}

void spindle_weighted_claimed(spindle_weighted *w, size_t q, int max, int claimed)
{
    if (q >= w->n)
        return;
    w->pass[q] += (double)claimed / (double)w->weight[q];
    w->busy[q] = claimed >= max;
    rebase(w);
}

void spindle_weighted_empty(spindle_weighted *w, size_t q, size_t served)
{
    if (q >= w->n)
        return;
    w->busy[q] = 0;
    if (served < w->n && w->pass[q] < w->pass[served])
        w->pass[q] = w->pass[served];
}
