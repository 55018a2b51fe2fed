// Writes the reference encodings of the test tokenizer families with Tokenizers.js
// (@huggingface/tokenizers, a JavaScript implementation of the Hugging Face tokenizers pipeline that
// shares no code with the Rust library jbond runs). Not part of the build; see README.md.
//
// Usage, from the models directory:
//   node src/test/oracle/reference-encodings.mjs [FAMILIES_DIR] [TRAINING_TEXT]
// Defaults: src/test/resources/dev/jbond/models/tokenizer/families and the training-text.txt next
// to it. For each folder FAMILIES_DIR/<family>/ that holds a tokenizer.json, writes
// reference-encodings.jsonl there: one JSON object per line with
//   text                      the input text
//   ids                       encode(text) without special tokens
//   decoded                   decode(ids), special tokens kept; left out when equal to text
//   idsWithSpecialTokens      encode(text) with the post-processor's special tokens; left out when
//                             equal to ids, and (to keep the files small) for all texts after the
//                             fixed ones but every fourth
//   decodedWithSpecialTokens  decode(idsWithSpecialTokens); left out with idsWithSpecialTokens
// The texts are the fixed edge cases below, seeded random texts and texts around the family's
// added tokens; the same seed gives the same texts.

import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const familiesDir = process.argv[2] ?? "src/test/resources/dev/jbond/models/tokenizer/families";
const trainingText = readFileSync(
  process.argv[3] ?? join(dirname(familiesDir), "training-text.txt"),
  "utf8",
);

// A small seeded generator (32-bit xorshift-multiply, "mulberry32"), so the texts never change.
function random(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    below: (n) => Math.floor(next() * n),
    pick(list) {
      return list[this.below(list.length)];
    },
    chance: (p) => next() < p,
  };
}

const range = (from, to) => {
  const out = [];
  for (let c = from; c <= to; c++) out.push(String.fromCodePoint(c));
  return out;
};

// Fixed edge cases: white space, accents, scripts, emoji sequences, unknown characters, text that
// normalizers change.
const FIXED = [
  "",
  " ",
  "  ",
  "     ",
  "\t",
  "\n",
  "\r\n",
  "\n\n\n",
  " \t \n ",
  "a\tb\nc\r\nd",
  "tab\there",
  "line\nbreak",
  " leading space",
  "   leading spaces",
  "trailing space ",
  "trailing spaces   ",
  "  both  sides  ",
  "multiple   spaces    inside",
  "hello",
  "Hello world",
  "HELLO WORLD",
  "The lighthouse keeper counted the ships that passed the harbour every evening.",
  "It's the keeper's cat; we've, they'll, I'm, you'd, she's",
  "I'M LOUD 'S 'T 'RE",
  "It\u2019s a curly apostrophe",
  "\"quoted\" and 'single' and \u00abguillemets\u00bb",
  "12 on Monday, 1234567 numbers -5 40km/h 3.14159 1,000,000",
  "2024-12-06T21:30:00Z",
  "!!!???...",
  "end.\n\n\n",
  "x  \n  y",
  "a.b,c;d:e!f?g",
  "(parentheses) [brackets] {braces} <angles>",
  "https://example.com/path?query=1&b=2#frag",
  "user@example.com",
  "def f(x):\n    return x * 2\n",
  "<b>bold</b> &amp; <i>italic</i>",
  "C++ and C# and F#",
  "snake_case_name and camelCaseName",
  "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 fa\u00e7ade \u00fcber Stra\u00dfe",
  "Cafe\u0301 decomposed e\u0301 and a\u0308",
  "a\u0300\u0301\u0302\u0303\u0304 stacked marks",
  "Z\u0351\u0362a\u0337\u0315l\u0334g\u035co\u0327",
  "\u00c5ngstr\u00f6m \u212bngstr\u00f6m",
  "\u0130stanbul \u0131\u015f\u0131k",
  "\u1e9e \u00df SS",
  "\u03a3\u039f\u03a6\u039f\u03a3 \u03c3\u03bf\u03c6\u03bf\u03c2",
  "\u212a Kelvin sign",
  "\ufb01ne \ufb02ow ligatures",
  "\uff21\uff22\uff23\uff11\uff12\uff13 fullwidth",
  "x\u00b2 + y\u00b3 = z\u2074",
  "\u2160 \u2161 \u216b roman",
  "\ud835\udd18\ud835\udd2b\ud835\udd26\ud835\udd20\ud835\udd2c\ud835\udd21\ud835\udd22",
  "\u2460\u2461\u2462 circled",
  "\u706f\u53f0",
  "\u706f\u53f0\u306e\u5149\u306f\u6d77\u3092\u7167\u3089\u3059\u3002",
  "\u6f22\u5b57\u304b\u306a\u30ab\u30ca",
  "\ub4f1\ub300 \ud55c\uad6d\uc5b4",
  "\u043c\u0430\u044f\u043a \u041c\u0410\u042f\u041a",
  "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
  "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
  "abc \u0645\u0631\u062d\u0628\u0627 123 \u05e9\u05dc\u05d5\u05dd def",
  "\u200fright-to-left mark\u200e left-to-right mark",
  "\u0939\u093f\u0928\u094d\u0926\u0940 \u0928\u092e\u0938\u094d\u0924\u0947",
  "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
  "\ud83d\ude00",
  "\ud83d\ude00\ud83d\ude00\ud83d\ude00",
  "emoji \ud83d\udd8d\ufe0f \u2600\ufe0f \ud83d\ude00 \ud83d\udc4d\ud83c\udffd",
  "\ud83d\udc4d\ud83c\udffb\ud83d\udc4d\ud83c\udffc\ud83d\udc4d\ud83c\udffd\ud83d\udc4d\ud83c\udffe\ud83d\udc4d\ud83c\udfff",
  "family \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66",
  "\ud83d\udc69\ud83c\udffd\u200d\ud83d\udcbb coder",
  "\ud83c\udff3\ufe0f\u200d\ud83c\udf08 \ud83c\udff4\u200d\u2620\ufe0f",
  "flags \ud83c\uddfa\ud83c\uddf3 \ud83c\uddef\ud83c\uddf5\ud83c\udde9\ud83c\uddea",
  "keycap 1\ufe0f\u20e3 #\ufe0f\u20e3",
  "\u0000",
  "nul\u0000inside",
  "\u0001\u0002\u0003\u001f",
  "del\u007f",
  "next\u0085line",
  "NBSP\u00a0here",
  "ideographic\u3000space",
  "thin\u2009space en\u2002space",
  "zero\u200bwidth\u200cnon\u200djoiner",
  "soft\u00adhyphen",
  "line\u2028separator\u2029paragraph",
  "byte order mark \ufeff",
  "private use \ue000\uf8ff",
  "\ud83f\udffe noncharacter-ish plane 1 \ud800\udc00",
  "replacement \ufffd char",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "antidisestablishmentarianism supercalifragilisticexpialidocious",
  "the the the the the",
  "<",
  ">",
  "<|",
  "[",
  "##",
  "\u2581",
  "\u2581\u2581 metaspace \u2581 characters\u2581",
  "<0x41> looks like a byte token",
  "\u0120 \u010a byte-level alphabet characters",
];

const POOLS = {
  lower: range(0x61, 0x7a),
  upper: range(0x41, 0x5a),
  digit: range(0x30, 0x39),
  space: [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u200b", "\u0085"],
  punct: [..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"],
  latin1: range(0xc0, 0xff).filter((c) => c !== "\u00d7" && c !== "\u00f7"),
  latinExt: [..."\u0100\u0107\u010d\u0119\u0142\u0144\u0151\u015b\u0161\u017e\u0130\u0131\u1e9e\u01c4\u01c5"],
  combining: range(0x300, 0x36f),
  greek: range(0x391, 0x3c9).filter((c) => c !== "\u03a2"),
  cyrillic: range(0x410, 0x44f),
  arabic: range(0x621, 0x64a),
  hebrew: range(0x5d0, 0x5ea),
  devanagari: range(0x905, 0x939).concat(["\u093f", "\u094d", "\u0902"]),
  cjk: range(0x4e00, 0x4e40).concat([..."\u706f\u53f0\u5149\u6d77\u8239"]),
  kana: range(0x3041, 0x3096).concat(range(0x30a1, 0x30fa)),
  hangul: range(0xac00, 0xac40),
  emoji: range(0x1f600, 0x1f64f).concat(range(0x1f300, 0x1f320), ["\u2600", "\u2764", "\u2705"]),
  modifier: range(0x1f3fb, 0x1f3ff),
  joiner: ["\u200d", "\ufe0f", "\u20e3"],
  flag: range(0x1f1e6, 0x1f1ff),
  control: ["\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u0080", "\u009f"],
  compat: [..."\ufb01\uff21\uff41\uff11\u00b2\u2160\u212b\u212a\u2460\u00bd\u2122\u3382"],
  astral: ["\ud835\udc00", "\ud835\udd04", "\ud840\udc00", "\ud800\udf00", "\udb40\udc01"],
  special: [..."\u2581\u0120\u010a\u00ad\u2028\ufeff\ufffd\ue000"],
};
const WEIGHTS = [
  ["lower", 30], ["upper", 8], ["digit", 6], ["space", 16], ["punct", 8], ["latin1", 5],
  ["latinExt", 2], ["combining", 2], ["greek", 2], ["cyrillic", 2], ["arabic", 2], ["hebrew", 1],
  ["devanagari", 1], ["cjk", 3], ["kana", 2], ["hangul", 1], ["emoji", 3], ["modifier", 1],
  ["joiner", 1], ["flag", 1], ["control", 1], ["compat", 1], ["astral", 1], ["special", 1],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function character(rng) {
  let r = rng.below(TOTAL_WEIGHT);
  for (const [pool, w] of WEIGHTS) {
    if (r < w) return rng.pick(POOLS[pool]);
    r -= w;
  }
  throw new Error("unreachable");
}

const WORDS = [...new Set(trainingText.split(/[^\p{L}\p{N}']+/u).filter((w) => w.length > 0))].sort();
const SEPARATORS = [" ", " ", " ", " ", "  ", ", ", ". ", "\n", "\t", "! ", "? ", "; ", " - ", "\u00a0"];

function words(rng, count) {
  let text = "";
  for (let i = 0; i < count; i++) {
    let word = rng.pick(WORDS);
    const style = rng.below(10);
    if (style === 0) word = word.toUpperCase();
    else if (style === 1) word = word.charAt(0).toUpperCase() + word.slice(1);
    else if (style === 2) word = word.toLowerCase();
    if (i > 0) text += rng.pick(SEPARATORS);
    text += word;
  }
  if (rng.chance(0.2)) text = " " + text;
  if (rng.chance(0.2)) text += rng.pick([" ", ".", "\n", "  ", "!"]);
  return text;
}

function soup(rng, length) {
  let text = "";
  for (let i = 0; i < length; i++) text += character(rng);
  return text;
}

function texts(addedTokens, seed) {
  const rng = random(seed);
  const out = [...FIXED];
  for (let i = 0; i < 450; i++) out.push(soup(rng, rng.below(33)));
  for (let i = 0; i < 400; i++) out.push(words(rng, 1 + rng.below(12)));
  for (let i = 0; i < 150; i++) {
    const base = words(rng, 1 + rng.below(6));
    const at = rng.below(base.length + 1);
    out.push(base.slice(0, at) + soup(rng, 1 + rng.below(6)) + base.slice(at));
  }
  // Added and special tokens inside text, and near misses of them.
  const pieces = [];
  for (const token of addedTokens) {
    pieces.push(token, token, " " + token, token + " ", token.toLowerCase(), token.slice(0, -1));
  }
  pieces.push(" ", "  ", "a", "word", "\n", "\u00e9", "1", "_", "<", ">", "[", "]", "|");
  for (let i = 0; i < 120; i++) {
    let text = "";
    for (let j = 1 + rng.below(7); j > 0; j--) text += rng.pick(pieces);
    out.push(text);
  }
  return out;
}

function sameIds(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function decode(tokenizer, ids) {
  // Tokenizers.js refuses an empty list; every implementation decodes it to "".
  if (ids.length === 0) return "";
  return tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
}

const families = readdirSync(familiesDir)
  .filter((name) => existsSync(join(familiesDir, name, "tokenizer.json")))
  .sort();
for (const family of families) {
  const json = JSON.parse(readFileSync(join(familiesDir, family, "tokenizer.json"), "utf8"));
  const tokenizer = new Tokenizer(json, {});
  const added = json.added_tokens.map((t) => t.content);
  const lines = [];
  const all = texts(added, 20261206);
  for (let index = 0; index < all.length; index++) {
    const text = all[index];
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const withSpecial = tokenizer.encode(text, { add_special_tokens: true }).ids;
    const line = { text, ids };
    const decoded = decode(tokenizer, ids);
    if (decoded !== text) line.decoded = decoded;
    if ((index < FIXED.length || index % 4 === 0) && !sameIds(ids, withSpecial)) {
      line.idsWithSpecialTokens = withSpecial;
      line.decodedWithSpecialTokens = decode(tokenizer, withSpecial);
    }
    lines.push(JSON.stringify(line));
  }
  const file = join(familiesDir, family, "reference-encodings.jsonl");
  writeFileSync(file, lines.join("\n") + "\n", "utf8");
  console.log(`${family}: ${lines.length} texts -> ${file}`);
}
