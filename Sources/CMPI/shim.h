// OpenMPI handles are macros with casts that Swift does not import; these inline functions
// return them. Nothing else lives here: the typed API is in TesseraMPI.
#ifndef TESSERA_CMPI_SHIM_H
#define TESSERA_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm tessera_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm tessera_mpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Info tessera_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline MPI_Errhandler tessera_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }

static inline MPI_Datatype tessera_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype tessera_mpi_char(void) { return MPI_CHAR; }
static inline MPI_Datatype tessera_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype tessera_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype tessera_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype tessera_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype tessera_mpi_uint8(void) { return MPI_UINT8_T; }
static inline MPI_Datatype tessera_mpi_uint64(void) { return MPI_UINT64_T; }

static inline MPI_Op tessera_mpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op tessera_mpi_op_min(void) { return MPI_MIN; }
static inline MPI_Op tessera_mpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op tessera_mpi_op_prod(void) { return MPI_PROD; }

static inline int tessera_mpi_any_source(void) { return MPI_ANY_SOURCE; }
static inline int tessera_mpi_any_tag(void) { return MPI_ANY_TAG; }
static inline int tessera_mpi_success(void) { return MPI_SUCCESS; }
static inline int tessera_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int tessera_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Status *tessera_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
#endif
