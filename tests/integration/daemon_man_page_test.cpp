// restsyncd(8) against the program: every command, option and exit status
// that `restsyncd --help` prints is in the page and the page documents none
// that the program lacks; every signal the daemon handles and every
// environment variable the code reads is there; and groff and man find
// nothing to warn about.
#include <regex>
#include <set>

#include "package_harness.hpp"

using namespace rs_test;

namespace {

std::filesystem::path man_page() { return build_dir() / "daemon" / "restsyncd.8"; }

// The page as plain text, as `man` shows it, at a width no line reaches.
std::string rendered() {
  auto r = run_command({"/usr/bin/groff", "-man", "-Tascii", "-P-c", "-P-b", "-P-u", "-rLL=250n",
                        man_page().string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  return r.out;
}

// The text of one section of the rendered page: from its heading to the next.
std::string section(const std::string& page, const std::string& heading) {
  auto at = page.find("\n" + heading + "\n");
  REQUIRE_MESSAGE(at != std::string::npos, "no section " << heading);
  // From the newline that ends the heading: each line of the section
  // follows a newline.
  const std::string rest = page.substr(at + heading.size() + 1);
  std::smatch m;
  if (std::regex_search(rest, m, std::regex("\n[A-Z][A-Z ]+\n")))
    return rest.substr(0, static_cast<std::size_t>(m.position(0)));
  return rest;
}

std::set<std::string> matches(const std::string& text, const std::string& pattern, int group = 0) {
  std::set<std::string> out;
  std::regex re(pattern);
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
    out.insert((*it)[group].str());
  return out;
}

// A set as one line, for comparisons that print what differs.
std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

std::string help() {
  auto r = run_command({(bin_dir() / "restsyncd").string(), "--help"});
  REQUIRE(r.code == 0);
  return r.out;
}

// The part of the help between a heading line and the next blank line.
std::string help_block(const std::string& h, const std::string& heading) {
  auto at = h.find("\n" + heading);
  REQUIRE_MESSAGE(at != std::string::npos, "no " << heading << " in --help");
  at += 1;
  return h.substr(at, h.find("\n\n", at) - at);
}

// The source files under dir, concatenated.
std::string sources_under(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const auto ext = e.path().extension();
    if (ext == ".cpp" || ext == ".hpp") all += read_text(e.path());
  }
  return all;
}

}  // namespace

TEST_CASE("every command of --help has its place in the page, and no other") {
  const auto commands = matches(help_block(help(), "commands:"), R"(\n  ([a-z][a-z-]+) )", 1);
  REQUIRE(commands.size() == 4);
  const std::string page = rendered();
  // Tagged paragraphs: the command alone at the start of its line, or
  // followed by its text.
  const auto documented = matches(section(page, "COMMANDS"), R"(\n       ([a-z][a-z-]+)( |\n))", 1);
  CHECK(joined(documented) == joined(commands));
  const std::string synopsis = section(page, "SYNOPSIS");
  for (const auto& c : commands) {
    INFO(c);
    CHECK(synopsis.find("restsyncd " + c + " ") != std::string::npos);
  }
}

TEST_CASE("every option of --help is documented in the page, and no other") {
  const auto options = matches(help(), R"(--[a-z][a-z-]*)");
  REQUIRE(options.count("--config"));
  REQUIRE(options.count("--resource"));
  const std::string page = rendered();
  const auto documented = matches(section(page, "OPTIONS"), R"(--[a-z][a-z-]*)");
  CHECK(joined(documented) == joined(options));
  CHECK(section(page, "OPTIONS").find("-h, --help") != std::string::npos);
}

TEST_CASE("the exit statuses of --help are the page's") {
  // "exit status: 0 success; 1 a resource failed …; 64 bad usage; …"
  std::string block = help_block(help(), "exit status:");
  block = block.substr(block.find(':') + 1);
  std::set<std::string> statuses;
  std::istringstream items(block);
  for (std::string item; std::getline(items, item, ';');) {
    std::smatch m;
    REQUIRE(std::regex_search(item, m, std::regex(R"(^\s*(\d+) )")));
    statuses.insert(m[1].str());
  }
  CHECK(statuses.size() >= 5);
  CHECK(joined(matches(section(rendered(), "EXIT STATUS"), R"(\n       (\d+)  )", 1)) ==
        joined(statuses));
}

TEST_CASE("the signals the daemon handles and the variables the code reads are in the page") {
  const std::string page = rendered();
  const auto handled = matches(sources_under(source_dir() / "daemon"), R"(\bSIG[A-Z]+\b)");
  REQUIRE(handled.count("SIGHUP"));
  const std::string signals = section(page, "SIGNALS");
  for (const auto& sig : handled) {
    INFO(sig);
    CHECK(signals.find(sig) != std::string::npos);
  }
  std::string code = sources_under(source_dir() / "daemon") + sources_under(source_dir() / "lib");
  const auto read = matches(code, R"re(getenv\("([A-Z_]+)"\))re", 1);
  REQUIRE(read.count("CREDENTIALS_DIRECTORY"));
  const std::string environment = section(page, "ENVIRONMENT");
  for (const auto& name : read) {
    INFO(name);
    CHECK(environment.find(name) != std::string::npos);
  }
}

TEST_CASE("groff and man find nothing to warn about in the page") {
  auto groff = run_command({"/usr/bin/groff", "-man", "-ww", "-z", man_page().string()});
  INFO(groff.err);
  CHECK(groff.code == 0);
  CHECK(groff.err.empty());
  if (!std::filesystem::exists("/usr/bin/man")) {
    MESSAGE("man is not installed (Debian package man-db); skipped");
    return;
  }
  // The page as installed, compressed.
  auto man = run_command(
      {"/usr/bin/man", "--warnings", "-l", (build_dir() / "daemon" / "restsyncd.8.gz").string()},
      {{"MANWIDTH", "80"}, {"LC_ALL", "C.UTF-8"}});
  INFO(man.err);
  CHECK(man.code == 0);
  CHECK(man.err.empty());
  CHECK(man.out.find("keep PostgreSQL in sync with a REST API") != std::string::npos);
}
