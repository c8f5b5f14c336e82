// fabricbench compare's reports: text, markdown, JUnit and CSV renderings of a CompareReport
// (harness/compare.hpp; docs/ci-gate.md says what each shows of the gate).
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness/compare.hpp"
#include "vocab/error.hpp"

namespace fb {

namespace {

std::string pct(double v) {
  return fmt::format("{:+.1f}%", v);
}
std::string pval(double p) {
  return p < 1e-4 ? fmt::format("{:.1e}", p) : fmt::format("{:.4f}", p);
}
std::string num(double v) {
  return fmt::format("{:.6g}", v);
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          o += ' ';
        else
          o += c;
    }
  }
  return o;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n')
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string verdict_line(const CompareReport& r) {
  return fmt::format("{}: {} slower, {} faster, {} same, {} missing, {} new",
                     r.regression() ? "REGRESSION"
                     : r.failed()   ? "FAIL"
                                    : "no regression",
                     r.slower, r.faster, r.same, r.missing, r.added);
}

// The gate's other failures, one line each ("" when none): "FAIL: 3 rows of base are missing ...".
std::string gate_lines(const CompareReport& r, const std::string& prefix) {
  std::string s;
  for (const auto& g : r.gate_failures) s += prefix + g.message + "\n";
  return s;
}

std::string u_line(const CompareReport& r) {
  const int matched = r.faster + r.slower + r.same;
  std::string s = fmt::format("U test (alpha {}, at least {} samples each) applied to {} of {} matched rows",
                              r.options.alpha, r.options.min_samples, r.u_applied, matched);
  if (!r.u_not_applied.empty()) s += "; not applied to " + join_list(r.u_not_applied) + " (threshold alone)";
  return s;
}

std::string settings_line(const CompareReport& r) {
  const auto& o = r.options;
  return fmt::format("metric {} ({}, {} is better), threshold {}%, alpha {}, min samples {}", o.metric,
                     metric_unit(o.metric), o.metric == "busbw" ? "higher" : "lower", o.threshold_pct,
                     o.alpha, o.min_samples);
}

std::vector<std::string> cells(const CompareRow& r) {
  return {r.backend,
          r.op,
          r.algo,
          r.mem,
          r.dtype,
          r.redop.empty() ? "-" : r.redop,
          r.inplace ? "in" : "out",
          std::to_string(r.nranks),
          std::to_string(r.ranks_per_node),
          std::to_string(r.bytes),
          r.base_value ? num(*r.base_value) : "-",
          r.cand_value ? num(*r.cand_value) : "-",
          r.change_pct ? pct(*r.change_pct) : "-",
          r.p_value ? pval(*r.p_value) : "-",
          verdict_name(r.verdict),
          r.note};
}

const std::vector<std::string> kHeader = {"backend", "op",     "algo",    "mem",   "dtype", "redop",
                                          "place",   "nranks", "rpn",     "bytes", "base",  "cand",
                                          "change",  "p",      "verdict", "note"};

std::string render_text(const CompareReport& r) {
  std::vector<std::vector<std::string>> table{kHeader};
  for (const auto& row : r.rows) table.push_back(cells(row));
  std::vector<std::size_t> w(kHeader.size(), 0);
  for (const auto& t : table)
    for (std::size_t i = 0; i < t.size(); ++i) w[i] = std::max(w[i], t[i].size());
  std::string s = "fabricbench compare: " + settings_line(r) + "\n";
  s += "base: " + r.base_desc + "\ncand: " + r.cand_desc + "\n\n";
  for (const auto& t : table) {
    std::string line;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const bool right = i >= 7 && i <= 13;  // numbers
      line +=
          (i ? "  " : "") + (right ? fmt::format("{:>{}}", t[i], w[i]) : fmt::format("{:<{}}", t[i], w[i]));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  if (r.rows.empty()) s += "(no rows)\n";
  s += "\ngeometric mean of cand/base per op:\n";
  for (const auto& o : r.ops)
    s += fmt::format("  {:<14} {:>4} rows  {:.4f} ({})\n", o.op, o.matched, o.geomean_ratio,
                     pct(100 * (o.geomean_ratio - 1)));
  if (r.ops.empty()) s += "  (no matched rows)\n";
  s += u_line(r) + "\n";
  s += verdict_line(r) + "\n";
  s += gate_lines(r, "FAIL: ");
  return s;
}

std::string render_markdown(const CompareReport& r) {
  std::string s = fmt::format("### fabricbench compare: {} {}\n\n",
                              r.failed() ? ":x:" : ":white_check_mark:", md_escape(verdict_line(r)));
  for (const auto& g : r.gate_failures) s += "- :x: **FAIL**: " + md_escape(g.message) + "\n";
  if (!r.gate_failures.empty()) s += "\n";
  s += md_escape(settings_line(r)) + "  \n";
  s += "base: `" + md_escape(r.base_desc) + "`  \ncand: `" + md_escape(r.cand_desc) + "`\n\n";
  std::string head = "|", rule = "|";
  for (const auto& h : kHeader) {
    head += " " + h + " |";
    rule += (h == "nranks" || h == "rpn" || h == "bytes" || h == "base" || h == "cand" || h == "change" ||
             h == "p")
                ? " ---: |"
                : " --- |";
  }
  s += head + "\n" + rule + "\n";
  for (const auto& row : r.rows) {
    auto c = cells(row);
    if (row.verdict == Verdict::slower || (row.verdict == Verdict::missing && r.gate_failed("missing")))
      c[14] = "**" + c[14] + "**";
    std::string line = "|";
    for (const auto& x : c) line += " " + md_escape(x) + " |";
    s += line + "\n";
  }
  s += "\n| op | rows | geomean cand/base | change |\n| --- | ---: | ---: | ---: |\n";
  for (const auto& o : r.ops)
    s += fmt::format("| {} | {} | {:.4f} | {} |\n", md_escape(o.op), o.matched, o.geomean_ratio,
                     pct(100 * (o.geomean_ratio - 1)));
  s += "\n" + md_escape(u_line(r)) + "\n";
  for (const auto& wn : r.warnings) s += "\n> warning: " + md_escape(wn) + "\n";
  return s;
}

// One testcase per matched row (failing when slower or when cand's row has wrong data) and per row
// missing from cand (failing, or skipped where --allow-missing accepts it); one failing testcase
// per other gate failure (cand's status, wrong data, nothing matched). New rows: system-out.
std::string render_junit(const CompareReport& r) {
  const bool missing_fails = r.gate_failed("missing");
  std::string cases, added;
  int tests = 0, failures = 0, skipped = 0;
  auto testcase = [&](const std::string& cls, const std::string& name, const std::string& body) {
    ++tests;
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n{}    </testcase>\n", xml_escape(cls),
                         xml_escape(name), body);
  };
  auto failure = [&](const std::string& type, const std::string& message, const std::string& text) {
    ++failures;
    return fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", type, xml_escape(message),
                       xml_escape(text));
  };
  for (const auto& row : r.rows) {
    const std::string cls = "fabricbench.compare." + row.op;
    if (row.verdict == Verdict::added) {
      added += "new: " + key_text(row) + "\n";
      continue;
    }
    if (row.verdict == Verdict::missing) {
      const std::string msg = "missing: not in cand";
      if (missing_fails) {
        testcase(cls, key_text(row), failure("missing", msg, msg + " (compare --allow-missing accepts it)"));
      } else {
        ++skipped;
        testcase(cls, key_text(row),
                 "      <skipped message=\"" + xml_escape(msg + ", allowed by --allow-missing") + "\"/>\n");
      }
      continue;
    }
    const std::string detail =
        fmt::format("{} {} -> {} {} ({}){}{}", r.options.metric, row.base_value ? num(*row.base_value) : "-",
                    row.cand_value ? num(*row.cand_value) : "-", metric_unit(r.options.metric),
                    row.change_pct ? pct(*row.change_pct) : "-",
                    row.p_value ? ", p=" + pval(*row.p_value) : "", row.note.empty() ? "" : "; " + row.note);
    std::string body;
    if (row.verdict == Verdict::slower)
      body += failure("regression", "slower: " + detail,
                      detail + fmt::format(" (threshold {}%)", r.options.threshold_pct));
    if (row.cand_wrong > 0) {
      const std::string msg = fmt::format("wrong data: {} wrong elements in cand", row.cand_wrong);
      body += failure("wrong-data", msg, msg);
    }
    if (body.empty())
      body = "      <system-out>" + xml_escape(std::string(verdict_name(row.verdict)) + ": " + detail) +
             "</system-out>\n";
    testcase(cls, key_text(row), body);
  }
  for (const auto& g : r.gate_failures)
    if (g.kind != "missing")
      testcase("fabricbench.compare.gate", g.kind, failure(g.kind, g.message, g.message));

  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += fmt::format("<testsuites name=\"fabricbench compare\" tests=\"{}\" failures=\"{}\">\n", tests,
                   failures);
  s += fmt::format(
      "  <testsuite name=\"fabricbench compare {}\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
      "skipped=\"{}\">\n",
      xml_escape(r.options.metric), tests, failures, skipped);
  s += "    <properties>\n";
  s += "      <property name=\"base\" value=\"" + xml_escape(r.base_desc) + "\"/>\n";
  s += "      <property name=\"cand\" value=\"" + xml_escape(r.cand_desc) + "\"/>\n";
  s += "      <property name=\"settings\" value=\"" + xml_escape(settings_line(r)) + "\"/>\n";
  s += "    </properties>\n";
  s += cases;
  s += "    <system-out>" +
       xml_escape(verdict_line(r) + "\n" + gate_lines(r, "FAIL: ") + u_line(r) + "\n" + added) +
       "</system-out>\n";
  s += "  </testsuite>\n</testsuites>\n";
  return s;
}

std::string render_csv(const CompareReport& r) {
  std::string s =
      "backend,op,algo,mem,dtype,redop,inplace,nranks,ranks_per_node,bytes,metric,base,cand,change_pct,p_"
      "value,verdict,note\n";
  auto opt = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); };
  for (const auto& row : r.rows) {
    s += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(row.backend),
                     csv_field(row.op), csv_field(row.algo), csv_field(row.mem), csv_field(row.dtype),
                     csv_field(row.redop), row.inplace ? 1 : 0, row.nranks, row.ranks_per_node, row.bytes,
                     r.options.metric, opt(row.base_value), opt(row.cand_value), opt(row.change_pct),
                     opt(row.p_value), verdict_name(row.verdict), csv_field(row.note));
  }
  return s;
}

}  // namespace

std::string render_compare(const CompareReport& r, const std::string& format) {
  if (format == "text") return render_text(r);
  if (format == "markdown") return render_markdown(r);
  if (format == "junit") return render_junit(r);
  if (format == "csv") return render_csv(r);
  throw UsageError("command line: format: expected text, markdown, junit or csv, got '" + format + "'");
}

}  // namespace fb
