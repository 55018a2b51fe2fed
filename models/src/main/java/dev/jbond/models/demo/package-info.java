/**
 * The demo's data: {@link dev.jbond.models.demo.SyntheticCorpus}, a deterministic generator of
 * short reviews; {@link dev.jbond.models.demo.SentimentLexicon}, the graded sentiment words of its
 * grammar and the sentiment score of a text that the demo reward follows; and {@link
 * dev.jbond.models.demo.CorpusFiles}, which writes and reads the corpus and prompts as JSON lines
 * of token ids (prompts may also be read as text, or as chats rendered with the policy's chat
 * template); {@link dev.jbond.models.demo.DemoAssets}, which regenerates every demo asset (corpus,
 * prompts, the sentiment reward model and the SFT-trained reference policy) as a Triton model
 * repository ({@code bond assets}, committed under {@code models/demo}).
 */
package dev.jbond.models.demo;
