/** Tests of policy files: exports, weight mapping, publishing into a sampling graph. */
package dev.jbond.models.policy;
