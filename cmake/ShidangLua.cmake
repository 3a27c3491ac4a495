# Lua scripts in files, embedded at build time (issue 13; BullMQ's src/commands/*.lua is the model).
#
#   shidang_embed_lua(<target> [HEADER <name>.h] <files...>)
#
# Call it in the CMakeLists.txt beside the store, listing every script of its scripts/ folder:
#
#   shidang_embed_lua(shidang_rotation scripts/open_round.lua scripts/assign_mentor.lua)
#
# It generates <build>/<this directory>/lua_scripts.h (or HEADER, for a second call in one
# directory), regenerated whenever a listed file changes, and makes <target> depend on it and see
# it. The header holds, in namespace shidang::<directory name>::lua, one constexpr
# absl::string_view per file, named after it (scripts/open_round.lua -> lua::kOpenRound), and its
# example (lua::kOpenRoundExample):
#
#   #include "services/rotation/lua_scripts.h"
#   const Mutation& OpenRoundScript() {
#     static const Mutation* script = new Mutation(lua::kOpenRound);
#     return *script;
#   }
#
# No file is read at run time. What each file holds:
#   - A header first (after the "#!lua" line where there is one), one --[[ ... ]] block: what the
#     script does, its KEYS and ARGV by name, what it returns, its errors by name (Code.NOT_FOUND,
#     ...: services/common/scripts/status_codes.lua, absl's names and numbers).
#   - In that header, either a "Piece:" line (a part other scripts include; never run alone) or an
#     "Example:" line followed, up to the header's end, by Lua that sets K and A (the body's keys
#     and args) and optionally `given`, a list of Redis commands that set the state up first:
#         Example:
#           given = {{'SET', 'rotation:{c:110105}:round', 'x'}}
#           K = {'rotation:{c:110105}:round'}
#           A = {'2027'}
#     tests/common/hash_tag_test.cc runs every example, of every service, as a Mutation body on a
#     cluster-mode Redis (the kit's keys under K[1]'s hash tag, the stream of the service named by
#     the directory, three prepared events): it must answer {ok = ...} and leave keys of its one
#     slot only. The build fails on a file with neither line.
#   - `--- @include "other.lua"` on a line of its own is replaced by that file (one of the same
#     call), so shared pieces are included by name, not pasted.
#
#   shidang_lua_registry(<target>)
#
# For the test that runs them all: generates <build>/lua_registry.h (every file of every
# shidang_embed_lua call made so far, as shidang::kEmbeddedLua) and makes <target> see it. Call it
# after every service's directory has been added.

set(SHIDANG_EMBED_LUA_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_lua.cmake)

# scripts/open_round.lua -> OpenRound
function(shidang_lua_constant_name out file)
  get_filename_component(stem "${file}" NAME_WE)
  string(REGEX REPLACE "[^A-Za-z0-9]+" ";" words "${stem}")
  set(name "")
  foreach(word IN LISTS words)
    string(SUBSTRING "${word}" 0 1 first)
    string(SUBSTRING "${word}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND name "${first}${rest}")
  endforeach()
  set(${out} "${name}" PARENT_SCOPE)
endfunction()

function(shidang_embed_lua target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "HEADER" "")
  if(NOT ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "shidang_embed_lua(${target}): list the .lua files to embed")
  endif()
  if(NOT ARG_HEADER)
    set(ARG_HEADER lua_scripts.h)
  endif()
  file(RELATIVE_PATH dir "${PROJECT_SOURCE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
  set(include "${dir}/${ARG_HEADER}")
  get_property(includes GLOBAL PROPERTY SHIDANG_LUA_HEADERS)
  if("${include}" IN_LIST includes)
    message(FATAL_ERROR "shidang_embed_lua(${target}): ${include} is made by another call; give "
                        "this one HEADER <another name>.h, or list the files in that call")
  endif()
  get_filename_component(service "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  set(header "${PROJECT_BINARY_DIR}/${include}")
  set(files "")
  foreach(file IN LISTS ARG_UNPARSED_ARGUMENTS)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND files "${file}")
    # What the registry needs to name this file's constants.
    file(RELATIVE_PATH path "${PROJECT_SOURCE_DIR}" "${file}")
    shidang_lua_constant_name(name "${file}")
    set_property(GLOBAL APPEND PROPERTY SHIDANG_LUA_ENTRIES "${path}|shidang::${service}::lua::k${name}")
  endforeach()
  # "|", not ";": a list would not survive the command line as one argument.
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT "${header}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${header}" "-DNAMESPACE=shidang::${service}::lua"
            "-DROOT=${PROJECT_SOURCE_DIR}" "-DFILES=${joined}" -P "${SHIDANG_EMBED_LUA_SCRIPT}"
    DEPENDS ${files} "${SHIDANG_EMBED_LUA_SCRIPT}" "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
    COMMENT "Embedding the Lua scripts of ${dir}"
    VERBATIM)
  add_custom_target(${target}_lua DEPENDS "${header}")
  add_dependencies(${target} ${target}_lua)
  target_sources(${target} PRIVATE "${header}")
  # PRIVATE: only the store includes it (and the registry's test, through shidang_lua_registry).
  target_include_directories(${target} PRIVATE "${PROJECT_BINARY_DIR}")
  set_property(GLOBAL APPEND PROPERTY SHIDANG_LUA_HEADERS "${include}")
  set_property(GLOBAL APPEND PROPERTY SHIDANG_LUA_TARGETS ${target}_lua)
endfunction()

function(shidang_lua_registry target)
  get_property(includes GLOBAL PROPERTY SHIDANG_LUA_HEADERS)
  get_property(entries GLOBAL PROPERTY SHIDANG_LUA_ENTRIES)
  get_property(targets GLOBAL PROPERTY SHIDANG_LUA_TARGETS)
  set(text "// Generated by cmake/ShidangLua.cmake (shidang_lua_registry): every embedded Lua file.\n")
  string(APPEND text "#pragma once\n\n#include \"absl/strings/string_view.h\"\n")
  foreach(include IN LISTS includes)
    string(APPEND text "#include \"${include}\"\n")
  endforeach()
  string(APPEND text "\nnamespace shidang {\n\nstruct EmbeddedLua {\n"
         "  absl::string_view path;     // in the source tree\n"
         "  absl::string_view text;     // includes expanded: what runs\n"
         "  absl::string_view example;  // Lua setting K, A and maybe given; empty for a piece\n"
         "};\n\ninline constexpr EmbeddedLua kEmbeddedLua[] = {\n")
  foreach(entry IN LISTS entries)
    string(REPLACE "|" ";" parts "${entry}")
    list(GET parts 0 path)
    list(GET parts 1 constant)
    string(APPEND text "    {\"${path}\", ${constant}, ${constant}Example},\n")
  endforeach()
  string(APPEND text "};\n\n}  // namespace shidang\n")
  # Written at configure time, and only when it changes, so its users are not rebuilt for nothing.
  file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/lua_registry.h" CONTENT "${text}" @ONLY)
  target_include_directories(${target} PRIVATE "${PROJECT_BINARY_DIR}")
  if(targets)
    add_dependencies(${target} ${targets})
  endif()
endfunction()
