// HDF5's predefined types, property-list classes and file flags are macros that expand to
// H5open() plus a global; Swift does not import them. These inline functions return them.
#ifndef TESSERA_CHDF5_SHIM_H
#define TESSERA_CHDF5_SHIM_H
#include <hdf5.h>

static inline hid_t tessera_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t tessera_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t tessera_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t tessera_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t tessera_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t tessera_h5t_c_s1(void) { return H5T_C_S1; }

static inline hid_t tessera_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t tessera_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t tessera_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t tessera_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t tessera_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t tessera_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t tessera_h5s_all(void) { return H5S_ALL; }
static inline hid_t tessera_h5e_default(void) { return H5E_DEFAULT; }

static inline unsigned tessera_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned tessera_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned tessera_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned tessera_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline hsize_t tessera_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline size_t tessera_h5t_variable(void) { return H5T_VARIABLE; }

/// 1 when this HDF5 build has the MPI-IO driver (it must: we link hdf5-openmpi).
static inline int tessera_h5_is_parallel(void) {
#ifdef H5_HAVE_PARALLEL
    return 1;
#else
    return 0;
#endif
}
#endif
