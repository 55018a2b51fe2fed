// Renders every chat template fixture over every conversation with @huggingface/jinja (an
// implementation of Jinja independent of the Jinjava engine that jbond uses) and writes the
// outputs, or the error messages, to expected.json next to the fixtures. See README.md.
import { readFileSync, writeFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const resources = new URL("../../resources/dev/jbond/models/chat/", import.meta.url);
const engine = JSON.parse(
  readFileSync(new URL("./node_modules/@huggingface/jinja/package.json", import.meta.url), "utf8"),
);

// strftime_now's clock: @huggingface/jinja's own strftime_now formats `new Date()` in local time
// with the default locale's month names. Fix both (the instant, the UTC zone, English names), so
// the output does not depend on when or where this runs; ChatTemplateTest gives the Java side the
// same instant and zone.
const NOW = "2024-07-26T09:05:03Z";
process.env.TZ = "UTC";
const RealDate = Date;
globalThis.Date = class FixedDate extends RealDate {
  constructor(...args) {
    super(...(args.length === 0 ? [NOW] : args));
  }

  static now() {
    return new RealDate(NOW).getTime();
  }
};
const month = new Intl.DateTimeFormat(undefined, { month: "long" }).format(new Date());
if (month !== "July") {
  throw new Error(`Expected English month names from the default locale, found ${month}: run with LANG=C`);
}

const SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

// What apply_chat_template reads from tokenizer_config.json.
function chatTemplate(config, name) {
  const value = config.chat_template;
  if (typeof value === "string") {
    return value;
  }
  const named = value.find((entry) => entry.name === "default");
  if (!named) {
    throw new Error(`${name}: no template named default`);
  }
  return named.template;
}

function specialTokens(config) {
  const tokens = {};
  for (const key of SPECIAL_TOKENS) {
    const value = config[key];
    if (typeof value === "string") {
      tokens[key] = value;
    } else if (value && typeof value.content === "string") {
      tokens[key] = value.content;
    }
  }
  return tokens;
}

const templates = JSON.parse(readFileSync(new URL("templates.json", resources), "utf8"));
const conversations = JSON.parse(readFileSync(new URL("conversations.json", resources), "utf8"));

const cases = [];
for (const [name, config] of Object.entries(templates)) {
  const template = new Template(chatTemplate(config, name));
  const tokens = specialTokens(config);
  for (const conversation of conversations) {
    for (const addGenerationPrompt of [false, true]) {
      const result = {
        template: name,
        conversation: conversation.name,
        add_generation_prompt: addGenerationPrompt,
      };
      try {
        result.output = template.render({
          ...tokens,
          messages: conversation.messages,
          add_generation_prompt: addGenerationPrompt,
        });
      } catch (e) {
        result.error = e.message;
      }
      cases.push(result);
    }
  }
}

const expected = { engine: `${engine.name} ${engine.version}`, now: NOW, cases };
writeFileSync(new URL("expected.json", resources), JSON.stringify(expected, null, 2) + "\n");
const errors = cases.filter((c) => "error" in c).length;
console.log(`${cases.length} cases (${errors} errors) written by ${expected.engine}`);
