%# The layout of the templates lesson: what rebases on it lands in {{!base}}. Expects: title.
<section>
  <h2>{{title}}</h2>
  <ul>
{{!base}}  </ul>
</section>
