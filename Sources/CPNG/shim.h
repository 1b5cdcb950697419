// libpng's simplified API (png_image_*) reports errors in the image struct instead of longjmp,
// which Swift cannot survive; TesseraPNG uses only that API. The format constants are built
// from flag macros, so plain functions return them here.
#ifndef TESSERA_CPNG_SHIM_H
#define TESSERA_CPNG_SHIM_H
#include <png.h>
#include <string.h>

static inline png_uint_32 tessera_png_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 tessera_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 tessera_png_format_rgba(void) { return PNG_FORMAT_RGBA; }

/// A zeroed png_image with its version set, as the simplified API requires.
static inline png_image tessera_png_image(void) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    return image;
}
#endif
