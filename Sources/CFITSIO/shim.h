// CFITSIO's long fits_* names are macros; TesseraFITS calls the short ff* functions directly.
// Type codes and status codes are plain integer macros and import as they are.
#ifndef TESSERA_CFITSIO_SHIM_H
#define TESSERA_CFITSIO_SHIM_H
#include <fitsio.h>
#endif
