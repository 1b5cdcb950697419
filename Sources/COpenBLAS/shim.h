// CBLAS from OpenBLAS and LAPACKE (row-major LAPACK interface).
#ifndef TESSERA_COPENBLAS_SHIM_H
#define TESSERA_COPENBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
