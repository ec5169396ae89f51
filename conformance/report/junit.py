"""JUnit XML (``--junit-xml``): one test case per row; failed rows are <failure> with the full
message, the suite's own errors <error> with the traceback, unsupported, skipped and known rows
<skipped> with the reason (as pytest writes an xfail), a stale row a <failure> under --strict-known."""
import datetime
import xml.etree.ElementTree as ET

from .record import NOT_RUN, place


def junit_xml(results, environment, strict_known=False):
    """The XML text of one ``<testsuites>`` holding one ``<testsuite name="rnn-conformance">``."""
    failing = {"failed"} | ({"stale"} if strict_known else set())
    counts = {"tests": len(results), "failures": sum(r.status in failing for r in results),
              "errors": sum(r.status == "error" for r in results),
              "skipped": sum(r.status in NOT_RUN + ("known",) for r in results)}
    seconds = sum(r.seconds for r in results)
    suites = ET.Element("testsuites", {k: str(v) for k, v in counts.items()}, time=f"{seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", {k: str(v) for k, v in counts.items()}, name="rnn-conformance",
                          time=f"{seconds:.3f}", timestamp=datetime.datetime.now().isoformat(timespec="seconds"))
    properties = ET.SubElement(suite, "properties")
    for name in ("torch", "cuda", "cudnn", "numpy", "hypothesis", "python", "seed"):
        ET.SubElement(properties, "property", name=name, value=str(environment.get(name)))
    for r in results:
        suite.append(_case(r, failing))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def junit_class(target):
    """A row's JUnit ``classname``: the suite, then the target with its dots made underscores
    (Jenkins and GitLab read the part after the last dot as the class, the rest as packages)."""
    return f"rnn-conformance.{target.replace('.', '_').replace(':', '_')}"


def _case(r, failing):
    case = ET.Element("testcase", classname=junit_class(r.target),
                      name=f"{r.check}[{place(r.device, r.backend, r.transform)}-{r.dtype}]", time=f"{r.seconds:.3f}")
    if r.status in failing:
        text = r.message or f"{r.check}: {r.reason}"
        ET.SubElement(case, "failure", message=_headline(text) if r.status == "failed" else r.reason,
                      type=r.status).text = text
    elif r.status == "error":
        ET.SubElement(case, "error", message=r.reason or "the suite itself raised",
                      type="error").text = "\n".join(filter(None, [r.message, r.traceback]))
    elif r.status in NOT_RUN + ("known",):
        ET.SubElement(case, "skipped", message=f"{r.status}: {r.reason}", type=r.status).text = r.message
    return case


def _headline(message):
    """The line of a failure message that says what was wrong (the worst element, or what
    went wrong), for the ``message`` attribute a CI page shows."""
    lines = [line.strip() for line in message.splitlines()]
    return next((line for line in lines if line.startswith(("worst element:", "what went wrong:"))), lines[0])
