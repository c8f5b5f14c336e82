#include "transports/mpi/mpi_inventory.hpp"

#include <dlfcn.h>
#include <mpi.h>

#include <cstring>

namespace fb::transports::mpi_inventory {

std::string thread_level_name(int level) {
  if (level == MPI_THREAD_SINGLE) return "single";
  if (level == MPI_THREAD_FUNNELED) return "funneled";
  if (level == MPI_THREAD_SERIALIZED) return "serialized";
  if (level == MPI_THREAD_MULTIPLE) return "multiple";
  return "unknown (" + std::to_string(level) + ")";
}

namespace {

// Open MPI's mca_base_component_t (opal/mca/mca.h, 2.1.0): three ints, the project name (16
// chars), three ints, the framework name (32), three ints, the component name (64). A record is
// accepted only when its project and framework names read as expected.
constexpr std::size_t kProjectAt = 12, kTypeAt = 40, kNameAt = 84, kNameLen = 64;

std::string component_name(const void* component, const char* framework) {
  if (component == nullptr) return "";
  const char* c = static_cast<const char*>(component);
  const bool project_ok =
      std::strncmp(c + kProjectAt, "ompi", 16) == 0 || std::strncmp(c + kProjectAt, "opal", 16) == 0;
  if (!project_ok || std::strncmp(c + kTypeAt, framework, 32) != 0) return "";
  return std::string(c + kNameAt, strnlen(c + kNameAt, kNameLen));
}

}  // namespace

std::string selected_pml() {
  // mca_pml_base_selected_component: a copy of the selected pml's component record.
  return component_name(dlsym(RTLD_DEFAULT, "mca_pml_base_selected_component"), "pml");
}

std::string selected_btls() {
  // mca_btl_base_modules_initialized: an opal_list_t of {opal_list_item_t, component*, module*}.
  // opal_list_t = {opal_object_t (16 B), sentinel opal_list_item_t, length}; an item is
  // {opal_object_t, next, prev, int item_free} = 40 B in a non-debug build.
  const char* list = static_cast<const char*>(dlsym(RTLD_DEFAULT, "mca_btl_base_modules_initialized"));
  if (list == nullptr) return "";
  constexpr std::size_t kObject = 16, kItem = 40;
  const char* sentinel = list + kObject;
  std::string out;
  const char* item = *reinterpret_cast<const char* const*>(sentinel + kObject);
  for (int guard = 0; item != nullptr && item != sentinel && guard < 64; ++guard) {
    const void* component = *reinterpret_cast<const void* const*>(item + kItem);
    const std::string name = component_name(component, "btl");
    if (name.empty()) return "";  // not the layout expected: say nothing rather than guess
    out += (out.empty() ? "" : "+") + name;
    item = *reinterpret_cast<const char* const*>(item + kObject);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> component_requests() {
  std::vector<std::pair<std::string, std::string>> out;
  int provided = 0;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return out;
  int n = 0;
  MPI_T_cvar_get_num(&n);
  for (const char* want : {"pml", "btl", "mtl", "coll", "osc"}) {
    int index = -1;
    if (MPI_T_cvar_get_index(want, &index) != MPI_SUCCESS || index < 0 || index >= n) continue;
    char name[256], desc[16];
    int name_len = sizeof name, desc_len = sizeof desc, verbosity = 0, bind = 0, scope = 0;
    MPI_Datatype type = MPI_DATATYPE_NULL;
    MPI_T_enum enumtype{};
    if (MPI_T_cvar_get_info(index, name, &name_len, &verbosity, &type, &enumtype, desc, &desc_len, &bind,
                            &scope) != MPI_SUCCESS ||
        type != MPI_CHAR)
      continue;
    MPI_T_cvar_handle handle{};
    int count = 0;
    if (MPI_T_cvar_handle_alloc(index, nullptr, &handle, &count) != MPI_SUCCESS) continue;
    std::string value(static_cast<std::size_t>(count > 4096 ? count : 4096) + 1, '\0');
    if (MPI_T_cvar_read(handle, value.data()) == MPI_SUCCESS) {
      value.resize(std::strlen(value.c_str()));
      if (!value.empty()) out.emplace_back(want, value);
    }
    MPI_T_cvar_handle_free(&handle);
  }
  MPI_T_finalize();
  return out;
}

}  // namespace fb::transports::mpi_inventory
