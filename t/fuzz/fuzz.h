/*
 * fuzz.h: what every fuzz harness of t/fuzz/ shares.
 *
 * A harness is one function, LLVMFuzzerTestOneInput(), that feeds one
 * input to one parser of the service and checks what came out.  It is
 * linked either with libFuzzer (t/fuzz/run.sh, clang) or with replay.c,
 * a main that feeds it every file of its corpus and regression folders
 * (make check, any compiler).  A harness must not keep state from one
 * input to the next beyond what it sets up once, so that a crash found
 * by the fuzzer is reproduced by replaying its one input.
 */
#ifndef GT_FUZZ_H
#define GT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Feeds the n bytes at data to the parser under test; always returns 0. */
int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/*
 * Stops the process with what broke when ok is zero: a property the
 * parser promises did not hold for this input.  abort() makes libFuzzer
 * keep the input as a crash, and replay report it.
 */
void	 fuzz_require(int ok, const char *what);

/*
 * Splits the n bytes at data at the first LF: *line is a NUL-terminated
 * copy of what comes before it (the whole input when there is no LF),
 * *rest and *restlen what follows.  The copy is malloc'ed: the caller
 * frees it.  Returns -1 when memory is short.
 */
int	 fuzz_first_line(const uint8_t *data, size_t n, char **line,
	    const uint8_t **rest, size_t *restlen);

#endif
