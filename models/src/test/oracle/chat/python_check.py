"""Checks expected.json (written by render.mjs) against Python's jinja2, set up as Hugging Face's
apply_chat_template sets it up. Not part of the build; see README.md. Usage: python3 python_check.py
"""
import json
import pathlib
import sys
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

RESOURCES = pathlib.Path(__file__).parent / "../../resources/dev/jbond/models/chat"
SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    templates = json.loads((RESOURCES / "templates.json").read_text("utf-8"))
    conversations = json.loads((RESOURCES / "conversations.json").read_text("utf-8"))
    expected = json.loads((RESOURCES / "expected.json").read_text("utf-8"))
    # the oracle's instant, naive as datetime.now() is
    now = datetime.fromisoformat(expected["now"].replace("Z", "+00:00")).replace(tzinfo=None)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    cases = {(c["template"], c["conversation"], c["add_generation_prompt"]): c for c in expected["cases"]}
    differences = 0
    for name, config in templates.items():
        source = config["chat_template"]
        if isinstance(source, list):
            source = {t["name"]: t["template"] for t in source}["default"]
        tokens = {}
        for key in SPECIAL_TOKENS:
            value = config.get(key)
            if isinstance(value, str):
                tokens[key] = value
            elif isinstance(value, dict):
                tokens[key] = value["content"]
        template = env.from_string(source)
        for conversation in conversations:
            for add_generation_prompt in (False, True):
                case = cases[(name, conversation["name"], add_generation_prompt)]
                try:
                    found = {"output": template.render(messages=conversation["messages"],
                                                       add_generation_prompt=add_generation_prompt,
                                                       tools=None, documents=None, **tokens)}
                except TemplateError as e:
                    found = {"error": str(e)}
                wanted = {k: case[k] for k in ("output", "error") if k in case}
                if found != wanted:
                    differences += 1
                    print("differs:", name, conversation["name"], add_generation_prompt, repr(found), repr(wanted))
    print(f"{len(cases)} cases, {differences} differ from Python's jinja2")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
