%# The first view's template: a fragment, without the layout. Expects: name.
<h1 class="hello">Hello {{name}}</h1>
