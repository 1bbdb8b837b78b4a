"""The answering core: a question in, a cited answer (or a refusal) out. Faces reach it through `AnswerService`."""
