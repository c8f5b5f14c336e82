// What the MPI library says about itself beyond its version string: the thread level it provided,
// the point-to-point layer it selected (Open MPI: the pml and its btls) and the component
// selections asked for through MCA variables. Used by World (transports/mpi/mpi_world.cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace fb::transports::mpi_inventory {

// "single", "funneled", "serialized" or "multiple" for an MPI_THREAD_* level.
std::string thread_level_name(int level);

// Open MPI's selected pml ("ob1", "ucx", "cm") and the btls ob1 initialised ("self+tcp+vader", in
// initialisation order), read from the library's own selection records; "" when this is not Open
// MPI or the records do not look as expected (nothing is guessed).
std::string selected_pml();
std::string selected_btls();

// The component selections asked for (MCA variables pml, btl, mtl, coll, osc as MPI_T control
// variables), only those set: {"pml", "^ucx"}, ...
std::vector<std::pair<std::string, std::string>> component_requests();

}  // namespace fb::transports::mpi_inventory
