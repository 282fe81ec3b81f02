#include "restsync/config/normalize.hpp"

#include <string>
#include <utility>

namespace restsync::config_reader {

namespace {

config_node scalar_node(const config_node& like, std::string path) {
  config_node n = like;
  n.path = std::move(path);
  return n;
}

config_node map_node(source_mark mark, std::string path) {
  config_node n;
  n.kind = node_kind::map;
  n.mark = mark;
  n.path = std::move(path);
  return n;
}

}  // namespace

void normalize_endpoint(config_node& endpoint) {
  if (endpoint.kind != node_kind::map) return;
  if (config_node* p = endpoint.find("paginator"); p != nullptr && p->kind == node_kind::scalar) {
    config_node m = map_node(p->mark, p->path);
    m.add({"type", p->mark}, scalar_node(*p, p->path + ".type"));
    *p = std::move(m);
  }
}

config_node normalize_resource(const config_node& resource) {
  if (resource.kind == node_kind::scalar) {
    config_node m = map_node(resource.mark, resource.path);
    m.add({"name", resource.mark}, scalar_node(resource, resource.path + ".name"));
    config_node endpoint = map_node(resource.mark, resource.path + ".endpoint");
    endpoint.add({"path", resource.mark}, scalar_node(resource, resource.path + ".endpoint.path"));
    m.add({"endpoint", resource.mark}, std::move(endpoint));
    return m;
  }
  config_node out = resource;
  if (out.kind != node_kind::map) return out;
  if (config_node* e = out.find("endpoint"); e != nullptr && e->kind == node_kind::scalar) {
    config_node m = map_node(e->mark, e->path);
    m.add({"path", e->mark}, scalar_node(*e, e->path + ".path"));
    *e = std::move(m);
  }
  if (config_node* e = out.find("endpoint")) normalize_endpoint(*e);
  return out;
}

}  // namespace restsync::config_reader
