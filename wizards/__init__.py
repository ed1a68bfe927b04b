# Wizards of the addon (the KSeF setup wizard is added with the company settings).
