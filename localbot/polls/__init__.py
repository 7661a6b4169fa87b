"""Quick polls: questions with 2–12 options, single or multiple choice, named or anonymous."""
