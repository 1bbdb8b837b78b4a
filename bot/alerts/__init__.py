"""Stories coming to the team: follows matched against newly indexed stories (alerts), and briefings."""
