/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors reader and the
 * fusion model binding.
 *
 * The bytes are a file image: parsed with st_parse_buffer (the same code path
 * as st_load_file).  When they parse, the reader's invariants are checked
 * (names unique, offsets cover the data region exactly); when they also bind
 * as a model, one forward pass runs on zero inputs, and when they bind as a
 * reference case, one on the case's own inputs.  Any violated invariant
 * aborts, so libFuzzer and the sanitizers report it.
 *
 * Built two ways by the Makefile: with libFuzzer (`make fuzz`), and as a
 * replay program over tests/fuzz/corpus/fuzz_safetensors/ (`make check-unit`).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perception/fusion.h"
#include "perception/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keep one input's work bounded (self-attention is O(T²H)). */
#define FUZZ_MAX_DIM 1024

static void check_reader_invariants(const st_file *f)
{
    size_t end = 0;
    for (size_t i = 0; i < f->ntensors; i++) {
        const st_tensor *t = &f->tensors[i];
        if (st_find(f, t->name) != t) abort(); /* duplicate name slipped through */
        if (t->begin != end || t->end - t->begin != t->numel * sizeof(float)) abort();
        end = t->end;
    }
    if (end != f->data_len) abort();
}

static void run_model(const uint8_t *data, size_t size)
{
    st_file f;
    fusion_model m;
    fusion_workspace ws = {0};
    float *zeros = NULL;
    if (st_parse_buffer(data, size, "fuzz", &f, NULL, 0) != 0) return;
    if (fusion_model_from_st(&m, &f, "fuzz", FUSION_LOAD_REFERENCE, NULL, 0) != 0) return;
    size_t maxd = 0;
    for (int mo = 0; mo < FUSION_MODALITIES; mo++)
        if (m.D[mo] > maxd) maxd = m.D[mo];
    if (m.H > FUZZ_MAX_DIM || maxd > FUZZ_MAX_DIM * 16) goto out;
    zeros = calloc(2 * maxd, sizeof *zeros); /* two zero rows per modality */
    if (!zeros || fusion_workspace_init(&ws, &m, 6, NULL, 0) != 0) goto out;
    fusion_input in = {{zeros, zeros, zeros}, {2, 2, 2}};
    fusion_output o;
    if (fusion_forward(&m, &ws, &in, &o) != 0 || o.T != 6) abort();
    fusion_input none = {{NULL, NULL, NULL}, {0, 0, 0}};
    if (fusion_forward(&m, &ws, &none, &o) != 0 || o.T != 0) abort();
out:
    fusion_workspace_free(&ws);
    free(zeros);
    fusion_model_free(&m);
}

static void run_case(const uint8_t *data, size_t size)
{
    st_file f;
    fusion_case c;
    fusion_workspace ws = {0};
    if (st_parse_buffer(data, size, "fuzz", &f, NULL, 0) != 0) return;
    if (fusion_case_from_st(&c, &f, "fuzz", NULL, 0) != 0) return;
    if (c.T > FUZZ_MAX_DIM || c.model.H > FUZZ_MAX_DIM) goto out;
    if (fusion_workspace_init(&ws, &c.model, c.T ? c.T : 1, NULL, 0) != 0) goto out;
    fusion_output o;
    fusion_cmp cmp[FUSION_CMP_N];
    if (fusion_forward(&c.model, &ws, &c.input, &o) != 0) abort();
    (void)fusion_case_compare(&c, &o, cmp);
out:
    fusion_workspace_free(&ws);
    fusion_case_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    char err[ST_ERR_LEN];
    int rc = st_parse_buffer(data, size, "fuzz", &f, err, sizeof err);
    if (rc != 0) {
        if (rc >= 0 || err[0] == '\0') abort(); /* every failure is negative and explained */
        return 0;
    }
    check_reader_invariants(&f);
    st_free(&f);
    run_model(data, size);
    run_case(data, size);
    return 0;
}
