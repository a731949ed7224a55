/*
 * dataset.h — labelled examples for training the fusion model (SPEC §7).
 *
 * A dataset file ("CCFUSION" format, version 1) holds examples, each either
 * the token matrices of the three modalities (any widths) or the feature
 * snapshot they come from (features.h layout; the tokens are made by
 * feat_extract when the example is used), plus its labels:
 *
 *   hold[0], hold[1]  1 = the next foothold of group A / B seals and holds,
 *                     0 = it does not (the model's grip output is the RISK,
 *                     so the trainer's target for grip[g] is 1 - hold[g])
 *   path              0..4 = PROCEED, SHORTEN, SIDESTEP_LEFT, SIDESTEP_RIGHT, STOP
 *
 * Layout, all integers and floats little-endian, floats IEEE-754 binary32,
 * no padding, no alignment (docs/perception-training.md has the same tables):
 *
 *   header, 40 bytes
 *     0   8  magic "CCFUSION"
 *     8   4  u32 version = 1
 *     12  4  u32 flags: bit 0 = SYNTHETIC (made by ds_synthetic, not by the
 *            simulator); every other bit must be 0
 *     16  4  u32 Dp   pressure token width     1..DS_MAX_WIDTH
 *     20  4  u32 Dq   proximity token width    1..DS_MAX_WIDTH
 *     24  4  u32 Dc   camera token width       1..DS_MAX_WIDTH
 *     28  4  u32 reserved = 0
 *     32  8  u64 count: number of records that follow, <= DS_MAX_RECORDS
 *   then COUNT records, back to back, to the end of the file (exactly:
 *   trailing bytes are an error).  Every record starts with 4 bytes:
 *     0   1  u8 kind: 1 = tokens, 2 = snapshot
 *     1   1  u8 hold A (0/1)
 *     2   1  u8 hold B (0/1)
 *     3   1  u8 path class (0..4)
 *   kind 1, tokens: 8 more bytes, then the matrices, row-major
 *     4   2  u16 Tp   5..6 u16 Tq   8..9 u16 Tc   10..11 u16 reserved = 0
 *     12     Tp·Dp f32, then Tq·Dq f32, then Tc·Dc f32 (all finite);
 *            Tp + Tq + Tc <= DS_MAX_TOKENS (a modality may have 0 rows)
 *   kind 2, snapshot (only when Dp, Dq, Dc are FEAT_DP, FEAT_DQ, FEAT_DC):
 *     4    48  f32 vacuum_kpa[12]          cup order A1a..B2c
 *     52   48  f32 vacuum_rate_kpa_s[12]
 *     100  32  f32 foot_mm[4][2]            A1 x, A1 y, A2 x, ... B2 y
 *     132  16  f32 proximity distance_mm[4] +X, -X, +Y, -Y
 *     148   2  u8 holding A, holding B (0/1)
 *     150   4  u8 proximity flags[4]: bit 0 no_echo, bit 1 dropout, others 0
 *     154   1  u8 camera online (0/1)
 *     155   1  u8 reserved = 0
 *     156   2  u16 camera width    158  2  u16 camera height
 *            (0 and 0 when offline; else multiples of 8, <= 128 x 96)
 *     160      width·height u8 pixels, row-major, when online
 *     (every float finite)
 *
 * Parsing is strict: every violation is an error naming the file, the record
 * (index and byte offset) and the field.  A parsed dataset is one copy of
 * the data in host floats, ready to train on; ds_get gives an example's
 * token matrices without allocating.
 *
 * Errors: 0 or a negative DS_E_* code, ds_strerror(code), and a caller
 * message buffer (may be NULL) for the details.
 */
#ifndef CROSSCLIMB_PERCEPTION_DATASET_H
#define CROSSCLIMB_PERCEPTION_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "features.h"
#include "fusion.h"

#define DS_MAGIC "CCFUSION"
#define DS_VERSION 1u
#define DS_HEADER_BYTES 40
#define DS_FLAG_SYNTHETIC 0x1u
#define DS_MAX_WIDTH 4096u        /* token width limit per modality */
#define DS_MAX_TOKENS 1024u       /* tokens per record limit */
#define DS_MAX_RECORDS (1u << 24) /* records per file limit */
#define DS_KIND_TOKENS 1
#define DS_KIND_SNAPSHOT 2
#define DS_TOKENS_HEAD 12   /* bytes of a tokens record before its floats */
#define DS_SNAPSHOT_HEAD 160 /* bytes of a snapshot record before its pixels */

enum {
    DS_OK = 0,
    DS_E_IO = -1,        /* cannot open / read / write a file */
    DS_E_FORMAT = -2,    /* bad magic, version, flags, widths or count in the header */
    DS_E_TRUNCATED = -3, /* file ends inside the header or a record */
    DS_E_RECORD = -4,    /* a record field out of range (kind, label, counts, geometry) */
    DS_E_VALUE = -5,     /* a non-finite float */
    DS_E_TRAILING = -6,  /* bytes after the last record */
    DS_E_NOMEM = -7,     /* out of memory */
    DS_E_ARG = -8,       /* invalid argument */
};

/* Labels of one example. */
typedef struct {
    uint8_t hold[2]; /* 1 = the next foothold of group A / B seals and holds */
    uint8_t path;    /* FUSION_PATH_PROCEED .. FUSION_PATH_STOP */
} ds_labels;

/* One example, ready for the model: token matrices (views) and labels. */
typedef struct {
    fusion_input in;
    ds_labels y;
} ds_example;

/* One record of a parsed dataset (internal views; use ds_get). */
typedef struct {
    uint8_t kind;
    ds_labels y;
    uint32_t n[FUSION_MODALITIES]; /* token rows per modality (snapshot: as extracted) */
    size_t offset;                 /* byte offset of the record in the file */
    const float *rows[FUSION_MODALITIES]; /* tokens records */
    const feat_snapshot *snap;     /* snapshot records */
} ds_record;

/* A parsed dataset; read-only after ds_parse_* / ds_load_file. */
typedef struct {
    uint32_t flags;                /* DS_FLAG_* */
    size_t D[FUSION_MODALITIES];   /* Dp, Dq, Dc */
    size_t count;                  /* records */
    size_t max_tokens;             /* largest Tp + Tq + Tc of any record (>= 1) */
    size_t n_snapshots;            /* records of kind 2 */
    ds_record *rec;                /* [count] */
    void *block;                   /* the one allocation behind rec, floats, snapshots, pixels */
} dataset;

/*
 * ds_parse_buffer — validate LEN bytes (a complete file image) into *DS.
 * NAME labels messages (NULL: "<memory>").  DATA is copied (converted) and
 * may be freed afterwards.  On failure *DS is empty.
 */
int ds_parse_buffer(dataset *ds, const uint8_t *data, size_t len, const char *name, char *err,
                    size_t errlen);

/* ds_load_file — read PATH whole and ds_parse_buffer it. */
int ds_load_file(dataset *ds, const char *path, char *err, size_t errlen);

/* ds_free — release a dataset; NULL-safe, idempotent. */
void ds_free(dataset *ds);

/*
 * ds_get — example I of DS into *EX.  Token records are views into DS;
 * a snapshot record is extracted into SCRATCH (needed only when the dataset
 * has snapshots; may be NULL otherwise) and EX points into it.  No
 * allocation.  Returns 0, DS_E_ARG (I out of range, SCRATCH missing).
 */
int ds_get(const dataset *ds, size_t i, feat_tokens *scratch, ds_example *ex);

/* ds_strerror — a short description of a DS_E_* code. */
const char *ds_strerror(int code);

/* ---- writing ---- */

/* A dataset being built in memory (grows as records are added). */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    size_t count;
    size_t D[FUSION_MODALITIES];
    int failed; /* an allocation failed: ds_build_finish reports DS_E_NOMEM */
} ds_builder;

/* ds_build_start — a header for widths D and FLAGS; DS_E_ARG for bad widths/flags. */
int ds_build_start(ds_builder *b, const size_t D[FUSION_MODALITIES], uint32_t flags);

/* ds_build_tokens — append a tokens record (rows as in fusion_input).
 * DS_E_RECORD / DS_E_VALUE for what the parser would refuse. */
int ds_build_tokens(ds_builder *b, const fusion_input *in, const ds_labels *y);

/* ds_build_snapshot — append a snapshot record; the builder's widths must be
 * the features.h layout.  Same refusals as the parser. */
int ds_build_snapshot(ds_builder *b, const feat_snapshot *s, const ds_labels *y);

/* ds_build_finish — patch the record count in; *DATA / *LEN are the file
 * image (owned by the builder until ds_build_free). */
int ds_build_finish(ds_builder *b, const uint8_t **data, size_t *len);

/* ds_build_free — release the builder's memory; NULL-safe. */
void ds_build_free(ds_builder *b);

/* ---- synthetic data ---- */

/* Camera frame of the synthetic snapshots: 32 x 16 pixels = 4 x 2 patches. */
#define DS_SYN_CAM_W 32
#define DS_SYN_CAM_H 16

/*
 * ds_synthetic — N SYNTHETIC snapshot examples from SEED into B (started
 * here, flags DS_FLAG_SYNTHETIC), drawn by made-up rules that use all three
 * modalities (docs/perception-training.md, "Synthetic data"):
 *   a holding group whose cups leak (low vacuum, falling)  -> hold = 0
 *   a lifted group whose landing area shows a dark patch   -> hold = 0
 *     (camera left half = ahead of group A, right half = group B)
 *   path from the proximity distances: ahead (+Y) > 600 mm or no echo ->
 *     PROCEED; 300..600 -> SHORTEN; < 300 -> SIDESTEP_LEFT when -X is clear
 *     (> 500 mm or no echo), else SIDESTEP_RIGHT when +X is clear, else STOP
 * Deterministic for SEED.  These are NOT simulator data.
 */
int ds_synthetic(ds_builder *b, size_t n, uint64_t seed);

/* ---- deterministic random numbers (xoshiro256**, seeded by splitmix64) ---- */

typedef struct {
    uint64_t s[4];
} ds_rng;

void ds_rng_seed(ds_rng *r, uint64_t seed);
uint64_t ds_rng_next(ds_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double ds_rng_uniform(ds_rng *r);
/* Uniform integer in [0, n), unbiased (n >= 1). */
uint64_t ds_rng_below(ds_rng *r, uint64_t n);

#endif
