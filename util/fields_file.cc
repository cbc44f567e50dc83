// "name value" status files (see fields_file.h).
#include "util/fields_file.h"

#include <cerrno>
#include <charconv>

#include "util/replace_file.h"
#include "util/status_macros.h"

namespace walcache {
namespace {

constexpr size_t kMaxBytes = 64 << 10;

}  // namespace

Status WriteFieldsFile(FileSystem* fs, const std::string& path, const Fields& fields) {
  std::string text;
  for (const auto& [name, value] : fields) {
    std::string v = value;
    for (char& c : v) {
      if (c == '\n') c = ' ';
    }
    text += name + " " + v + "\n";
  }
  return ReplaceFile(fs, path, text);
}

Result<Fields> ReadFieldsFile(FileSystem* fs, const std::string& path) {
  Result<std::unique_ptr<ReadableFile>> opened = fs->OpenReadable(path);
  if (!opened.ok()) {
    if (opened.status().sys_errno() == ENOENT) return Status::NotFound(path);
    return opened.status();
  }
  std::unique_ptr<ReadableFile> f = std::move(opened).value();
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (size > kMaxBytes) {
    return Status::Corruption(path + ": " + std::to_string(size) + " bytes, too large");
  }
  std::string text(size, '\0');
  size_t got = 0;
  WALCACHE_RETURN_IF_ERROR(f->Read(0, text.size(), text.data(), &got));
  text.resize(got);
  Fields out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  }
  return out;
}

Status ParseField(const std::string& path, const std::pair<std::string, std::string>& field,
                  uint64_t* out) {
  const std::string& v = field.second;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Status::Corruption(path + ": malformed line '" + field.first + " " + v + "'");
  }
  return Status::OK();
}

}  // namespace walcache
