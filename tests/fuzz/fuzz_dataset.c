/*
 * fuzz_dataset.c — libFuzzer target for the CCFUSION dataset parser
 * (perception/dataset.c) and the trainer on what it accepts.
 *
 * The bytes are a dataset file image, parsed with ds_parse_buffer (the same
 * code as ds_load_file).  When they parse:
 *   - every record's example is fetched (snapshots through feat_extract)
 *     and checked: labels in range, token counts within max_tokens, every
 *     token value finite;
 *   - the parsed dataset is written back with the builder and must give the
 *     input bytes exactly (the format has one encoding per dataset);
 *   - when it is small (max_tokens <= 64), a tiny model (H = 2, with
 *     self-attention) trains one epoch on up to 16 records and evaluates:
 *     it may report a non-finite loss for absurd values, never crash.
 * Any violated invariant aborts, so libFuzzer and the sanitizers report it.
 *
 * Built two ways by the Makefile: with libFuzzer (`make fuzz`), and as a
 * replay program over tests/fuzz/corpus/fuzz_dataset/ (`make check-unit`).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perception/dataset.h"
#include "perception/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_examples(const dataset *ds)
{
    static feat_tokens scratch;
    for (size_t i = 0; i < ds->count; i++) {
        ds_example ex;
        if (ds_get(ds, i, &scratch, &ex) != 0) abort();
        if (ex.y.hold[0] > 1 || ex.y.hold[1] > 1 || ex.y.path >= FUSION_PATH) abort();
        size_t T = 0;
        for (int m = 0; m < FUSION_MODALITIES; m++) {
            if (ex.in.n[m] != ds->rec[i].n[m]) abort();
            if (ex.in.n[m] && !ex.in.rows[m]) abort();
            for (size_t k = 0; k < ex.in.n[m] * ds->D[m]; k++)
                if (!isfinite(ex.in.rows[m][k])) abort();
            T += ex.in.n[m];
        }
        if (T > ds->max_tokens || T > DS_MAX_TOKENS) abort();
    }
}

static void check_round_trip(const dataset *ds, const uint8_t *data, size_t size)
{
    ds_builder b;
    if (ds_build_start(&b, ds->D, ds->flags) != 0) abort();
    for (size_t i = 0; i < ds->count; i++) {
        const ds_record *r = &ds->rec[i];
        int rc;
        if (r->kind == DS_KIND_TOKENS) {
            fusion_input in;
            for (int m = 0; m < FUSION_MODALITIES; m++) {
                in.rows[m] = r->rows[m];
                in.n[m] = r->n[m];
            }
            rc = ds_build_tokens(&b, &in, &r->y);
        } else {
            rc = ds_build_snapshot(&b, r->snap, &r->y);
        }
        if (rc == DS_E_NOMEM) goto out;
        if (rc != 0) abort();
    }
    const uint8_t *out;
    size_t len;
    if (ds_build_finish(&b, &out, &len) != 0) goto out;
    if (len != size || memcmp(out, data, size) != 0) abort();
out:
    ds_build_free(&b);
}

static void train_a_little(const dataset *ds)
{
    if (ds->count == 0 || ds->max_tokens > 64) return;
    train_shape s = {.H = 2, .Hp = 2, .self_attn = 1};
    for (int m = 0; m < FUSION_MODALITIES; m++) s.D[m] = ds->D[m];
    train_model m;
    trainer t;
    if (train_model_init(&m, &s, 1, NULL, 0) != 0) return;
    train_config c;
    train_config_default(&c);
    c.batch = 4;
    if (trainer_init(&t, &m, &c, ds->max_tokens, NULL, 0) != 0) {
        train_model_free(&m);
        return;
    }
    size_t idx[16], n = ds->count < 16 ? ds->count : 16;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    train_stats st;
    int rc = trainer_epoch(&t, ds, idx, n, &st);
    if (rc != 0 && rc != TRAIN_E_NONFINITE) abort();
    if (rc == 0) {
        if (st.n != n || st.grip_correct > 2 * n || st.path_correct > n) abort();
        rc = trainer_evaluate(&t, ds, idx, n, &st);
        if (rc != 0 && rc != TRAIN_E_NONFINITE) abort();
    }
    for (size_t i = 0; i < m.nparams; i++)
        if (!isfinite(m.params[i])) abort(); /* Adam refuses to store a non-finite step */
    trainer_free(&t);
    train_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dataset ds;
    char err[512];
    int rc = ds_parse_buffer(&ds, data, size, "fuzz", err, sizeof err);
    if (rc != 0) {
        if (ds.block || ds.count) abort(); /* a refused file leaves nothing behind */
        if (rc > 0 || rc < DS_E_ARG || !err[0]) abort();
        return 0;
    }
    if (ds.count > DS_MAX_RECORDS || ds.max_tokens == 0) abort();
    check_examples(&ds);
    check_round_trip(&ds, data, size);
    train_a_little(&ds);
    ds_free(&ds);
    return 0;
}
