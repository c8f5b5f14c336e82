// The MPI communicator behind a World (transports/mpi/mpi_world.cpp), for the backends of the
// mpi layer: the mpi backend runs its ops on (a duplicate of) the world it was made for, which
// is a sub-communicator under run --split / --ranks.
#pragma once

#include <mpi.h>

#include "transports/world.hpp"

namespace fb::transports {

// The world's communicator (the harness's duplicate of it); MPI_COMM_WORLD for a World that is
// not over MPI.
MPI_Comm mpi_comm(const World& world);

}  // namespace fb::transports
