/**
 * Unit tests of the chat templates: {@code ChatTemplateTest} renders the committed fixture
 * templates ({@code templates.json}) over the committed conversations ({@code conversations.json})
 * and compares with {@code expected.json}, which {@code src/test/oracle/chat/render.mjs} writes
 * with {@code @huggingface/jinja}.
 */
package dev.jbond.models.chat;
