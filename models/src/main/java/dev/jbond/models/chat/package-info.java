/**
 * Chat prompts: {@link dev.jbond.models.chat.ChatMessage}, one turn of a conversation, and {@link
 * dev.jbond.models.chat.ChatTemplate}, which renders a conversation to prompt text with the Jinja
 * chat template of a model's {@code tokenizer_config.json}, as Hugging Face's {@code
 * apply_chat_template} does. The package-private classes here set up the Jinja engine (Jinjava) so
 * that it follows Python Jinja where Hugging Face templates rely on it.
 */
package dev.jbond.models.chat;
