"""Names that are specific whatever the corpus says: countries (and their adjectives).

A question about "argentina" names something specific even when no ingested
article mentions Argentina at all, and in that case the articles cannot answer it.
"""

COUNTRIES = """afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil
brunei bulgaria burkina burundi cambodia cameroon canada chad chile china colombia comoros congo
croatia cuba cyprus czechia czech denmark djibouti dominica ecuador egypt salvador eritrea estonia
eswatini ethiopia fiji finland france gabon gambia georgia germany ghana greece grenada guatemala guinea
guyana haiti honduras hungary iceland india indonesia iran iraq ireland israel italy jamaica japan
jordan kazakhstan kenya kiribati korea kosovo kuwait kyrgyzstan laos latvia lebanon lesotho liberia
libya liechtenstein lithuania luxembourg madagascar malawi malaysia maldives mali malta mauritania
mauritius mexico micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru
nepal netherlands nicaragua niger nigeria norway oman pakistan palau panama paraguay peru philippines
poland portugal qatar romania russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia
somalia spain lanka sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo
tonga trinidad tunisia turkey turkiye turkmenistan tuvalu uganda ukraine emirates uruguay uzbekistan
vanuatu vatican venezuela vietnam yemen zambia zimbabwe
argentine argentinian australian austrian belgian brazilian canadian chilean chinese colombian danish
dutch egyptian estonian finnish french german greek hungarian icelandic indian indonesian iranian
israeli italian japanese kenyan korean lithuanian luxembourgish malaysian mexican nigerian norwegian
peruvian polish portuguese romanian russian rwandan saudi slovak slovenian spanish swedish swiss
taiwanese thai turkish ukrainian uruguayan vietnamese""".split()
