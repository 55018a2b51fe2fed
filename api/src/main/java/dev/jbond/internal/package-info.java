/**
 * Helpers that are public only so that other jbond modules can use them: argument checks, a small
 * JSON writer and reader. Not part of the supported API; may change without notice.
 */
package dev.jbond.internal;
