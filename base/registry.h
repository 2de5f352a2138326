// A name → factory registry per kind of plugin (method, backbone, dataset).
// Plugins register themselves from their own .cpp with a static Registrar, so
// adding one is adding one file (the library is linked whole, see CMakeLists.txt):
//
//   static dfb::Registrar<dfb::MethodFactory> reg("my_method", "one line saying what it is", &make);
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/suggest.h"

namespace dfb {

template <class Factory>
class Registry {
 public:
  struct Entry {
    std::string name, description;
    Factory factory;
  };

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(Entry entry) {
    if (find(entry.name)) throw Error("duplicate registration of '" + entry.name + "'");
    entries_.push_back(std::move(entry));
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  }
  const Entry* find(const std::string& name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  // Throws "unknown <kind> 'x', did you mean 'y'? available: ...".
  const Entry& get(const std::string& name) const {
    if (const Entry* e = find(name)) return *e;
    throw Error(unknown_name_message(Factory::kKind, name, names()));
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.push_back(e.name);
    return out;
  }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

template <class Factory>
struct Registrar {
  Registrar(const char* name, const char* description, Factory factory) {
    Registry<Factory>::instance().add({name, description, std::move(factory)});
  }
};

}  // namespace dfb
